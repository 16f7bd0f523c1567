/**
 * One run of the allocator's property test (property.test.ts): the
 * allocator state under test, the seeded PRNG that drives it, and the
 * values steps draw from (users, node names, rules, out-of-bound numbers).
 * Every reply is checked against the wire schema as it comes.
 */
import assert from 'node:assert/strict';
import { Rng } from '../../helpers/prng.js';
import { handleMasterMessage, type HandleOptions } from '../../../src/allocator/handle.js';
import type { AllocatorState, NodeSpec, SlotRecord } from '../../../src/allocator/state.js';
import {
  allocatorToMasterSchema,
  type AllocatorToMaster,
  type MasterToAllocator,
  type Slot,
} from '../../../src/protocol/master-allocator.js';
import { allocator, node, rules } from './fixtures.js';

const STRICT: HandleOptions = { trustRegistrations: false };
export const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];
export const NODE_NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
export const RULES = ['even', 'even minimum 1', 'explicit\nu0 2+50%\nu1 3', 'explicit minimum 1\nu2 4\nu3 1+10%', 'even minimum 9'].map(
  rules,
);
export const HUGE: Partial<Slot>[] = [
  { cores: 2 ** 53 - 1 },
  { cores: 0 },
  { memGB: 1e300 },
  { memGB: -1 },
  { jobId: -1 },
  { node: '' },
  { cores: 2.5 },
];

export class Run {
  readonly rng: Rng;
  readonly s: AllocatorState;
  private id = 0;
  private nextJob = 1;
  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.s = allocator(this.someNodes(), 'even');
  }
  int(lo: number, hi: number): number {
    return this.rng.int(lo, hi);
  }
  pick<T>(xs: readonly T[]): T {
    return this.rng.pick(xs);
  }
  chance(p: number): boolean {
    return this.rng.chance(p);
  }
  /** A job id: mostly new, sometimes one that may be held (by anyone). */
  job(): number {
    return this.chance(0.1) ? this.int(1, 20) : this.nextJob++;
  }
  /** A job id never used. */
  freshJob(): number {
    return this.nextJob++;
  }
  spec(name: string): NodeSpec {
    const memGB = this.pick([1, 4, 8, 16, 3.5, 32]);
    return node(name, this.int(1, 8), { memGB, attributes: this.chance(0.3) ? ['gpu'] : [], prefMulticore: this.chance(0.2) });
  }
  someNodes(): NodeSpec[] {
    return NODE_NAMES.filter(() => this.chance(0.7)).map((n) => this.spec(n));
  }
  send(msg: Record<string, unknown>): AllocatorToMaster {
    const reply = handleMasterMessage(this.s, { ...msg, id: ++this.id } as MasterToAllocator, STRICT);
    assert.deepEqual(allocatorToMasterSchema(JSON.parse(JSON.stringify(reply)), '$'), reply, 'the reply is a valid frame');
    return reply;
  }
  slotsOf(user: string): SlotRecord[] {
    return [...(this.s.userByName.get(user)?.slots.values() ?? [])];
  }
  allSlots(): SlotRecord[] {
    return this.s.users.flatMap((u) => [...u.slots.values()]);
  }
}
