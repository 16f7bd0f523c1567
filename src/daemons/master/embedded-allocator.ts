/**
 * How a master talks to its allocator. The embedded default calls the pure
 * allocator core in-process through the same typed messages the
 * `qpy-multiuser` daemon receives over the network, so swapping one for the
 * other changes no master code.
 */
import type { AllocatorToMaster, MasterToAllocator } from '../../protocol/master-allocator.js';
import { handleMasterMessage } from '../../allocator/handle.js';
import type { AllocatorState } from '../../allocator/state.js';
import type { QpyError } from '../../errors.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type AllocatorRequest = DistributiveOmit<MasterToAllocator, 'id'>;

export interface AllocatorLink {
  request(message: AllocatorRequest): Promise<AllocatorToMaster>;
  /** False while a shared allocator is away (the embedded one is always there). */
  reachable?(): boolean;
  /**
   * Why the shared allocator refuses this user (NOT_ALLOWED, or its key
   * refused: UNAUTHENTICATED), with a hint, while it does; else null.
   */
  denied?(): QpyError | null;
}

/** The embedded allocator: one in-process allocator state, answered synchronously. Its one master's registration is the truth (§3.9). */
export function embeddedLink(state: AllocatorState): AllocatorLink {
  let id = 0;
  return {
    request(message) {
      return Promise.resolve(handleMasterMessage(state, { ...message, id: ++id } as MasterToAllocator, { trustRegistrations: true }));
    },
  };
}
