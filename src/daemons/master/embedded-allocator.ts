/**
 * The embedded allocator: the allocator link (allocator-link.ts) of a
 * master that joined no qpy-multiuser. It calls the pure allocator core
 * in-process through the same typed messages qpy-multiuser receives over
 * the network, so swapping one for the other changes no master code.
 */
import type { MasterToAllocator } from '../../protocol/master-allocator.js';
import { handleMasterMessage } from '../../allocator/handle.js';
import type { AllocatorState } from '../../allocator/state.js';
import type { AllocatorLink } from './allocator-link.js';

/** The embedded allocator: one in-process allocator state, answered synchronously. Its one master's registration is the truth (§3.9). */
export function embeddedLink(state: AllocatorState): AllocatorLink {
  let id = 0;
  return {
    request(message) {
      return Promise.resolve(handleMasterMessage(state, { ...message, id: ++id } as MasterToAllocator, { trustRegistrations: true }));
    },
  };
}
