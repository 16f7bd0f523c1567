/**
 * The allocator link: the one interface through which a master asks for
 * slots, gives them back and asks about the cluster, whoever grants them.
 * In code it is `AllocatorLink` (the context's `allocator`); in logs and
 * docs "the allocator" is that role, and "qpy-multiuser" the shared
 * process when the user joined one. Two implementations:
 * embedded-allocator.ts (the allocator core in this process, over the
 * nodes file) and multiuser-link.ts (qpy-multiuser over the network).
 */
import type { AllocatorToMaster, MasterToAllocator } from '../../protocol/master-allocator.js';
import type { QpyError } from '../../errors.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message to the allocator, without its `id` (the link numbers them). */
export type AllocatorRequest = DistributiveOmit<MasterToAllocator, 'id'>;

export interface AllocatorLink {
  request(message: AllocatorRequest): Promise<AllocatorToMaster>;
  /** False while qpy-multiuser is away (the embedded allocator is always there). */
  reachable?(): boolean;
  /**
   * Why qpy-multiuser refuses this user (NOT_ALLOWED, or its key refused:
   * UNAUTHENTICATED), with a hint, while it does; else null.
   */
  denied?(): QpyError | null;
}
