/**
 * The allocator core's public surface, for `src/daemons/` and the embedded
 * allocator of the master. Pure: no I/O, no clock, no randomness.
 */
export { parseNodesFile, type NodeConfig, type NodesFileResult } from './nodes-file.js';
export { parseRules, distribute, DEFAULT_RULES, type Rules, type RuleEntry, type Share } from './rules.js';
export { parseAttrExpr, matchesNode, expressionNames, formatAttrExpr, type AttrExpr } from './attributes.js';
export {
  createAllocator,
  addUser,
  setRules,
  redistribute,
  setNodeMetrics,
  outsidersFromBusy,
  MEM_RESERVE_GB,
  type AllocatorState,
  type NodeSpec,
  type NodeMetrics,
  type NodeState,
  type UserState,
  type SlotRecord,
} from './state.js';
export { chargeSlot, releaseSlot, auditCounters, auditCapacity, nodeLoads, type NodeLoad } from './accounting.js';
export { releaseVanishedSlots } from './reap.js';
export { hasRoom, chooseNode, tryGrant, globalFreeCores, borrowableCores } from './grant.js';
export { checkFeasible } from './feasible.js';
export { buildStatus } from './status.js';
export { handleMasterMessage, type HandleOptions } from './handle.js';
