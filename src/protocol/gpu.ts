/**
 * GPUs as qpy sees them: one device of a node, as its `nvidia-smi` reports it
 * (executor/gpu-query.ts parses the output), and its wire shape. Shared by the
 * node probe, the allocator (which counts and gives out device indices) and
 * the masters (which pass them to jobs as CUDA_VISIBLE_DEVICES).
 */
import { int, num, obj, str, type Infer } from './schema.js';

/** One GPU of a node: its index (what CUDA_VISIBLE_DEVICES names), UUID, model name and memory in MiB. */
export const gpuDeviceSchema = obj({ index: int, uuid: str, name: str, memoryMiB: num, usedMiB: num });
export type GpuDevice = Infer<typeof gpuDeviceSchema>;
