/**
 * GPU detection for the embedded allocator (a master that joined no
 * qpy-multiuser): the GPU part of the node probe (executor/node-probe.ts
 * gpuProbeCommand) runs on each node of the user's own nodes file (or on
 * this machine alone), locally or over one kept SSH connection per node,
 * at start and every `intervalMs` after (0: at start only); a node found
 * without `nvidia-smi` is not probed again (nor its connection kept) until
 * the master restarts. It sets the
 * node's GPUs and those held by outsiders on the allocator state, and pokes
 * the dispatcher when they changed. Off the dispatch path: grants only read
 * the last results; a probe that fails or times out leaves what was known.
 *
 * Outsiders here are processes of no job of this user: another user's qpy
 * job is not this allocator's to count, so its GPU is kept out as an
 * outsider's.
 */
import { setNodeMetrics, type AllocatorState } from '../../allocator/state.js';
import { gpuMetrics, gpuProbeCommand, parseGpuProbe } from '../../executor/node-probe.js';
import { gpuNews } from '../../executor/gpu-query.js';
import { nodeCommands } from '../../executor/node-commands.js';
import type { Log } from '../shared/log.js';

/** A probe taking longer than this counts as failed. */
const PROBE_TIMEOUT_MS = 20_000;

export interface GpuProbes {
  /** Probe every node now; resolves when every probe is done. */
  probe(): Promise<void>;
  close(): void;
}

export interface GpuProbeOptions {
  state: AllocatorState;
  /** The user whose jobs these are (their tags' user). */
  user: string;
  intervalMs: number;
  log: Log;
  /** After a probe changed what grants may see. */
  onChange(): void;
}

export function startGpuProbes(opts: GpuProbeOptions): GpuProbes {
  const { state, log, user } = opts;
  const commands = nodeCommands();
  const running = new Map<string, Promise<void>>();
  /** Nodes whose last probe failed (logged once until one succeeds). */
  const failing = new Set<string>();
  /** Nodes whose GPUs a probe has reported (their changes are logged). */
  const seen = new Set<string>();
  /** Nodes without `nvidia-smi`: done with. */
  const without = new Set<string>();
  let closed = false;

  function probeOne(name: string, address: string): Promise<void> {
    const already = running.get(name);
    if (already) return already;
    const p = commands
      .run(name, address, gpuProbeCommand(), PROBE_TIMEOUT_MS)
      .then((out) => {
        const node = state.nodeByName.get(name);
        if (closed || !node) return;
        if (failing.delete(name)) log(`node ${name}: GPU probe works again`);
        const before = seen.has(name)
          ? { gpuDevices: node.gpuDevices, gpuOutsiders: node.gpuOutsiders, gpuProblem: node.gpuProblem }
          : null;
        seen.add(name);
        const found = parseGpuProbe(out);
        setNodeMetrics(
          state,
          name,
          gpuMetrics(found, (owner) => owner === 'qpy' || (owner !== null && owner.user === user)),
        );
        if (found.gpuDevices?.length === 0) {
          without.add(name);
          commands.forget(name);
        }
        const news = gpuNews(before, node);
        for (const line of news) log(`node ${name}: ${line}`);
        if (news.length > 0) opts.onChange();
      })
      .catch((err: Error) => {
        if (!closed && !failing.has(name)) log(`node ${name}: GPU probe failed (${err.message}); what was known stands`);
        failing.add(name);
      })
      .finally(() => running.delete(name));
    running.set(name, p);
    return p;
  }

  async function probe(): Promise<void> {
    if (closed) return;
    const nodes = state.nodes.filter((n) => !n.removed && !without.has(n.spec.name));
    await Promise.all(nodes.map((n) => probeOne(n.spec.name, n.spec.address)));
  }

  void probe();
  const timer = opts.intervalMs > 0 ? setInterval(() => void probe(), opts.intervalMs) : null;
  timer?.unref();
  return {
    probe,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      commands.close();
    },
  };
}
