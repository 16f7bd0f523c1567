/**
 * Builders for the allocator tests of Slurm pools (pilot-nodes.test.ts,
 * pool-why.test.ts): a pilot's node, and a pool and a pilot as status shows them.
 */
import type { PilotNode } from '../../../src/allocator/pilot-nodes.js';
import type { PilotView, PoolView } from '../../../src/protocol/cluster.js';

export const pilot = (jobId: string, over: Partial<PilotNode> = {}): PilotNode => ({
  name: `p-${jobId}`,
  address: `h${jobId}`,
  pool: 'p',
  jobId,
  cores: 4,
  memGB: 8,
  ...over,
});

export const poolView = (over: Partial<PoolView> = {}): PoolView => ({
  name: 'p',
  kind: 'slurm',
  partition: 'batch',
  maxNodes: 2,
  cores: 4,
  memGB: 8,
  timeLimitS: 3600,
  idleMin: 10,
  reach: 'ssh',
  pilots: [],
  problem: null,
  ...over,
});

export const pilotView = (jobId: string, over: Partial<PilotView> = {}): PilotView => ({
  jobId,
  state: 'PENDING',
  reason: null,
  host: null,
  node: null,
  endsAt: null,
  connected: false,
  ending: null,
  ...over,
});
