/**
 * GPUs of a node as the allocator gives them out (issue 16): which device
 * indices a node has, how many jobs each may hold (`gpu_share=K`), which are
 * free for one more job, and the pick of distinct devices for a job that
 * asks for N. A device held by a process outside qpy (`gpuOutsiders`, from
 * the probe) is never given out while it is. Pure: node state in, indices out.
 */
import type { GpuDevice } from '../protocol/gpu.js';

/** What of a node (state.ts NodeState) its GPUs are decided by; structural, so that state.ts can use these functions. */
export interface GpuNode {
  spec: { gpus?: number; gpuShare?: number };
  gpuDevices: GpuDevice[] | null;
  gpuOutsiders: number[];
  gpuUse: Map<number, number>;
}
type NodeState = GpuNode;

/**
 * The device indices a node gives out: 0..N−1 when its nodes file says
 * `gpus=N` (the admin's word, probe or not), else the indices its probe
 * found (none until probed, or where it could not tell).
 */
export function nodeGpuIndices(node: NodeState): number[] {
  if (node.spec.gpus !== undefined) return Array.from({ length: node.spec.gpus }, (_, i) => i);
  return node.gpuDevices === null ? [] : node.gpuDevices.map((d) => d.index);
}

/** How many of the node's GPUs there are (what `status` shows as its total). */
export const nodeGpuCount = (node: NodeState): number => nodeGpuIndices(node).length;

/** How many jobs one device of the node may hold at once (`gpu_share=K`, default 1). */
export const nodeGpuShare = (node: NodeState): number => node.spec.gpuShare ?? 1;

/** Jobs holding device `index` of the node now. */
export const gpuJobs = (node: NodeState, index: number): number => node.gpuUse.get(index) ?? 0;

/** The devices that can take one more job now: below their share, and not held by an outsider. */
export function freeGpuIndices(node: NodeState): number[] {
  const share = nodeGpuShare(node);
  const outsiders = new Set(node.gpuOutsiders);
  return nodeGpuIndices(node).filter((i) => !outsiders.has(i) && gpuJobs(node, i) < share);
}

/** Devices of the node some job holds now (a device shared by K jobs counts once). */
export const usedGpuCount = (node: NodeState): number => [...node.gpuUse.values()].filter((n) => n > 0).length;

/**
 * `n` distinct devices for a job, or null when fewer are free. The least
 * loaded first (an idle device before a shared one), ties to the lowest
 * index; returned in increasing order, as CUDA_VISIBLE_DEVICES lists them.
 */
export function pickGpus(node: NodeState, n: number): number[] | null {
  if (n === 0) return [];
  const free = freeGpuIndices(node);
  if (free.length < n) return null;
  const chosen = free.sort((a, b) => gpuJobs(node, a) - gpuJobs(node, b) || a - b).slice(0, n);
  return chosen.sort((a, b) => a - b);
}

/** The UUIDs of these devices, when the probe knows every one of them; null otherwise. */
export function gpuUuidsOf(node: NodeState | undefined, indices: readonly number[]): string[] | null {
  if (node === undefined || node.gpuDevices === null || indices.length === 0) return null;
  const byIndex = new Map(node.gpuDevices.map((d) => [d.index, d.uuid]));
  const uuids = indices.map((i) => byIndex.get(i));
  return uuids.every((u): u is string => u !== undefined && u !== '') ? uuids : null;
}

/** Add (+1) or take away (−1) one job on each of these devices of the node. */
export function countGpus(node: NodeState, indices: readonly number[], delta: 1 | -1): void {
  for (const i of indices) {
    const n = gpuJobs(node, i) + delta;
    if (n === 0) node.gpuUse.delete(i);
    else node.gpuUse.set(i, n);
  }
}
