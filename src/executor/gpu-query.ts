/**
 * What the node probe asks `nvidia-smi` (node-probe.ts runs it), and the
 * parsers of its answers: the CSV of `--query-gpu` (one GPU a line) and of
 * `--query-compute-apps` (one process on a GPU a line), both printed with
 * `--format=csv,noheader,nounits`, as in the real output kept in
 * test/fixtures/gpu/. Pure text in, facts out; an answer that is not of
 * that shape never throws: the GPUs are then unknown (null), with the
 * reason (`status` shows it).
 */
import type { GpuDevice } from '../protocol/gpu.js';

/** The fields asked of each GPU, in the order the parser reads them (a line may carry more after them). */
export const GPU_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'memory.used'] as const;
/** The fields asked of each compute app (likewise). */
export const APP_FIELDS = ['pid', 'gpu_uuid', 'used_memory'] as const;

const FORMAT = '--format=csv,noheader,nounits';
export const GPU_QUERY = `nvidia-smi --query-gpu=${GPU_FIELDS.join(',')} ${FORMAT}`;
export const APPS_QUERY = `nvidia-smi --query-compute-apps=${APP_FIELDS.join(',')} ${FORMAT}`;

/** A qpy job, by its tag (executor/wrapper.ts jobTag). */
export interface JobOwner {
  user: string;
  jobId: number;
  attempt: number;
}

/** A process on a GPU, as `--query-compute-apps` lists it, with the qpy job it belongs to. */
export interface GpuApp {
  /** Its pid as nvidia-smi saw it; null where nvidia-smi could not say (`[N/A]`). */
  pid: number | null;
  uuid: string;
  usedMiB: number;
  /**
   * Whose it is: the live job (by its tag) whose process group or session
   * it or an ancestor is in; `qpy` when an ancestor is a qpy job wrapper or
   * node agent but the tags are not known; null when it is no qpy job's
   * (an outsider).
   */
  owner: JobOwner | 'qpy' | null;
}

const UUID = /^GPU-[0-9A-Za-z-]{1,80}$/;

const fieldsOf = (line: string): string[] => line.split(',').map((f) => f.trim());

/** A MiB figure; nvidia-smi writes `[N/A]` or `[Not Supported]` where it has none (read as 0). */
function mib(field: string | undefined): number | null {
  if (field === undefined) return null;
  if (/^\[[A-Za-z /]+\]$/.test(field)) return 0;
  if (!/^[0-9]{1,9}(\.[0-9]+)?$/.test(field)) return null;
  return Number(field);
}

/** A line of nvidia-smi's as a reason shows it: printable, trimmed, at most 160 characters (its driver message whole), quoted. */
export function quoteLine(line: string): string {
  const clean = line.replace(/[^\x20-\x7e]/g, '?').trim();
  return JSON.stringify(clean.length > 160 ? `${clean.slice(0, 157)}...` : clean);
}

/**
 * The GPUs of a `--query-gpu` answer (GPU_FIELDS), or why it cannot be
 * read. Blank lines are skipped; any other line not of that shape, or an
 * index seen twice, makes the whole answer unknown: a GPU left out would
 * be worse than none counted.
 */
export function readGpuList(text: string): { devices: GpuDevice[] } | { problem: string } {
  const devices: GpuDevice[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [index, uuid, name, total, used] = fieldsOf(line);
    const memoryMiB = mib(total);
    const usedMiB = mib(used);
    if (!index || !/^[0-9]{1,3}$/.test(index) || !uuid || !UUID.test(uuid) || !name || memoryMiB === null || usedMiB === null)
      return { problem: `nvidia-smi printed something unexpected: ${quoteLine(line)}` };
    if (devices.some((d) => d.index === Number(index) || d.uuid === uuid))
      return { problem: `nvidia-smi listed GPU ${index} (${quoteLine(uuid)}) twice` };
    devices.push({ index: Number(index), uuid, name, memoryMiB, usedMiB });
  }
  return { devices: devices.sort((a, b) => a.index - b.index) };
}

/** The GPUs of a `--query-gpu` answer, or null where readGpuList finds a problem. */
export function parseGpuList(text: string): GpuDevice[] | null {
  const r = readGpuList(text);
  return 'devices' in r ? r.devices : null;
}

/**
 * The processes of a `--query-compute-apps` answer (APP_FIELDS), each
 * behind its owner word as the probe prints it (`gpu-app OWNER CSV`, see
 * node-probe.ts): OWNER is a listed job's process group, `qpy`, or `-`.
 * Lines without a GPU UUID name no GPU and are skipped; a pid nvidia-smi
 * could not give reads as null (its GPU is then an outsider's).
 */
export function parseGpuApp(owner: string, csv: string, jobOf: (group: number) => JobOwner | undefined): GpuApp | null {
  const [pid, uuid, used] = fieldsOf(csv);
  if (!uuid || !UUID.test(uuid)) return null;
  const n = /^[0-9]{1,10}$/.test(pid ?? '') ? Number(pid) : null;
  const group = /^[0-9]{1,10}$/.test(owner) ? Number(owner) : null;
  const job = group === null ? undefined : jobOf(group);
  return {
    pid: n !== null && n > 0 ? n : null,
    uuid,
    usedMiB: mib(used) ?? 0,
    owner: job ?? (owner === 'qpy' || group !== null ? 'qpy' : null),
  };
}

/**
 * The indices of the GPUs held by outsiders: those with a process that
 * `ours` does not claim. A process on a GPU not among `devices` is
 * ignored. Sorted, each index once.
 */
export function gpuOutsiders(devices: readonly GpuDevice[], apps: readonly GpuApp[], ours: (owner: GpuApp['owner']) => boolean): number[] {
  const held = new Set<number>();
  for (const app of apps) {
    const device = devices.find((d) => d.uuid === app.uuid);
    if (device && !ours(app.owner)) held.add(device.index);
  }
  return [...held].sort((a, b) => a - b);
}

/** What the allocator holds of a node's GPUs (allocator/state.ts NodeMetrics). */
export interface GpuFacts {
  gpuDevices: GpuDevice[] | null;
  gpuOutsiders: number[];
  /** Why the GPUs are unknown (gpuDevices null after a probe), or null. */
  gpuProblem: string | null;
}

const describeDevices = (d: GpuDevice[] | null, problem: string | null): string =>
  d === null
    ? `GPUs unknown (${problem ?? 'nvidia-smi failed or printed something unexpected'})`
    : d.length === 0
      ? 'no GPU'
      : `${d.length} GPU${d.length === 1 ? '' : 's'} (${[...new Set(d.map((g) => g.name))].join(', ')})`;

/**
 * The log lines for a node whose GPU facts went from `before` (null: its
 * first probe) to `after`: none when nothing a reader cares about changed.
 */
export function gpuNews(before: GpuFacts | null, after: GpuFacts): string[] {
  const news: string[] = [];
  const ids = (d: GpuDevice[] | null): string => (d === null ? 'unknown' : d.map((g) => `${g.index}=${g.uuid}`).join(' '));
  if (before === null || ids(before.gpuDevices) !== ids(after.gpuDevices) || before.gpuProblem !== after.gpuProblem)
    news.push(describeDevices(after.gpuDevices, after.gpuProblem));
  if ((before?.gpuOutsiders ?? []).join(',') !== after.gpuOutsiders.join(','))
    news.push(after.gpuOutsiders.length === 0 ? 'no GPU held by outsiders' : `GPUs held by outsiders: ${after.gpuOutsiders.join(', ')}`);
  return news;
}
