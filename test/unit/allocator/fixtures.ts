/**
 * Small builders shared by the allocator unit tests.
 */
import assert from 'node:assert/strict';
import type { NodeSpec } from '../../../src/allocator/state.js';
import { createAllocator, type AllocatorState } from '../../../src/allocator/state.js';
import { auditCounters } from '../../../src/allocator/accounting.js';
import { parseRules, type Rules } from '../../../src/allocator/rules.js';

/** A resolved node spec with sensible defaults (plenty of memory). */
export function node(name: string, cores: number, extra: Partial<NodeSpec> = {}): NodeSpec {
  return { name, address: name, cores, memGB: 64, attributes: [], prefMulticore: false, checkDir: null, ...extra };
}

export function rules(text: string): Rules {
  const r = parseRules(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.rules;
}

export function allocator(nodes: NodeSpec[], rulesText = 'even'): AllocatorState {
  return createAllocator(nodes, rules(rulesText));
}

/** Fails the test with every counter that disagrees with the slots. */
export function assertBalanced(state: AllocatorState): void {
  assert.deepEqual(auditCounters(state), []);
}
