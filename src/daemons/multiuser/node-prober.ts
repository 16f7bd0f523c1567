/**
 * The qpy-multiuser daemon's node probes, in the background: every node is
 * probed at start, after each reload (new nodes at once), and every
 * `intervalMs` after that (the original waited 300 s). A probe runs the
 * script of executor/node-probe.ts over one kept SSH connection per node (as
 * the admin account), or locally for nodes at this machine. A node whose
 * probe fails is shown `(down)` and gets no new jobs until a probe succeeds;
 * a node whose file entry lacks `cores=` or `memory=` takes what the probe
 * found. Probes never hold up a grant: the allocator only reads their last
 * results.
 *
 * A node that is down is tried again sooner than the interval: after 1 s,
 * then 2, 4, 8 and every 15 s, whatever the failure (refused, timeout, lost
 * connection), so a returning node takes jobs within seconds. Each probe
 * also lists the node's live jobs by their tags (`live`), which the
 * daemon uses to give back the slots of dead masters' ended jobs, and
 * the node's GPUs (gpuDevices) with those held by processes of no qpy job
 * (gpuOutsiders), logged when they change.
 */
import { outsidersFromBusy, recountCores, redistribute, setNodeMetrics, type AllocatorState } from '../../allocator/state.js';
import { gpuMetrics, parseProbe, probeCommand, type LiveTag, type ProbeResult } from '../../executor/node-probe.js';
import { gpuNews } from '../../executor/gpu-query.js';
import { nodeCommands } from '../../executor/node-commands.js';
import { nextRetryMs } from '../../executor/retry.js';
import type { Log } from '../shared/log.js';

/** A probe taking longer than this counts as failed. */
const PROBE_TIMEOUT_MS = 20_000;

/** The live jobs a probe saw on a node, and when that probe started. */
export interface LiveList {
  startedAt: number;
  tags: LiveTag[];
}

export interface Prober {
  /** Probe these nodes now (all by default); resolves when every probe is done. */
  probe(names?: string[]): Promise<void>;
  /** The live jobs listed by the node's last successful probe, or null (down, never probed, no list). */
  live(name: string): LiveList | null;
  close(): void;
}

export interface ProberOptions {
  state: AllocatorState;
  log: Log;
  intervalMs: number;
  /** Nodes whose capacity the nodes file leaves to the probe. */
  probedCapacity(name: string): { cores: boolean; memory: boolean };
  /** After any probe round changed what grants may see. */
  onChange(): void;
}

export function createProber(opts: ProberOptions): Prober {
  const { state, log } = opts;
  const commands = nodeCommands();
  const running = new Map<string, Promise<void>>();
  const lives = new Map<string, LiveList>();
  /** Nodes whose GPUs a probe has reported (their changes are logged). */
  const gpuSeen = new Set<string>();
  /** Down nodes: the timer of the next retry, and the wait before it. */
  const retries = new Map<string, { timer: NodeJS.Timeout; waitMs: number }>();
  let closed = false;

  function retryLater(name: string): void {
    const last = retries.get(name);
    clearTimeout(last?.timer);
    const waitMs = nextRetryMs(last?.waitMs ?? null);
    const timer = setTimeout(() => void probe([name]), waitMs);
    timer.unref();
    retries.set(name, { timer, waitMs });
  }

  function apply(name: string, r: ProbeResult | null, problem: string, startedAt: number): void {
    const node = state.nodeByName.get(name);
    if (!node || closed) return;
    if (r === null) {
      if (node.up) log(`node ${name} is down: ${problem}`);
      setNodeMetrics(state, name, { up: false });
      lives.delete(name);
      retryLater(name);
      return;
    }
    clearTimeout(retries.get(name)?.timer);
    retries.delete(name);
    if (r.tags !== null) lives.set(name, { startedAt, tags: r.tags });
    else lives.delete(name);
    if (!node.up) log(`node ${name} is up`);
    const capacity = opts.probedCapacity(name);
    if ((capacity.cores && node.spec.cores !== r.cores) || (capacity.memory && node.spec.memGB !== r.memTotalGB)) {
      node.spec = {
        ...node.spec,
        cores: capacity.cores ? r.cores : node.spec.cores,
        memGB: capacity.memory ? r.memTotalGB : node.spec.memGB,
      };
      recountCores(state);
      redistribute(state);
    }
    setNodeMetrics(state, name, {
      up: true,
      load: r.load,
      usedMemGB: r.memUsedGB,
      outsiders: r.outsiders ?? (r.busy === null ? 0 : outsidersFromBusy(state, name, r.busy)),
      disk: r.disk,
    });
    // GPUs: a process of any qpy job (by its tag, or under a wrapper or an agent) is this daemon's own.
    const before = gpuSeen.has(name) ? { gpuDevices: node.gpuDevices, gpuOutsiders: node.gpuOutsiders, gpuProblem: node.gpuProblem } : null;
    setNodeMetrics(
      state,
      name,
      gpuMetrics(r, (owner) => owner !== null),
    );
    for (const line of gpuNews(before, node)) log(`node ${name}: ${line}`);
    gpuSeen.add(name);
  }

  function probeOne(name: string): Promise<void> {
    const already = running.get(name);
    if (already) return already;
    const node = state.nodeByName.get(name);
    if (!node) return Promise.resolve();
    const command = probeCommand(node.spec.checkDir);
    const address = node.spec.address;
    const startedAt = Date.now();
    const p = commands
      .run(name, address, command, PROBE_TIMEOUT_MS)
      .then((out) => {
        const r = parseProbe(out);
        apply(name, r, r === null ? 'the probe printed nothing usable' : '', startedAt);
      })
      .catch((err: Error) => apply(name, null, err.message, startedAt))
      .finally(() => running.delete(name));
    running.set(name, p);
    return p;
  }

  async function probe(names = state.nodes.filter((n) => !n.removed).map((n) => n.spec.name)): Promise<void> {
    if (closed) return;
    await Promise.all(names.map(probeOne));
    if (!closed) opts.onChange();
  }

  const timer = setInterval(() => void probe(), opts.intervalMs);
  timer.unref();

  return {
    probe,
    live: (name) => lives.get(name) ?? null,
    close() {
      closed = true;
      clearInterval(timer);
      for (const r of retries.values()) clearTimeout(r.timer);
      commands.close();
    },
  };
}
