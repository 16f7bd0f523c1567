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
 */
import { outsidersFromBusy, recountCores, redistribute, setNodeMetrics, type AllocatorState } from '../allocator/state.js';
import { parseProbe, probeCommand, type ProbeResult } from '../executor/node-probe.js';
import { nodeCommands } from '../executor/node-commands.js';
import type { Log } from './log.js';

/** A probe taking longer than this counts as failed. */
const PROBE_TIMEOUT_MS = 20_000;

export interface Prober {
  /** Probe these nodes now (all by default); resolves when every probe is done. */
  probe(names?: string[]): Promise<void>;
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
  let closed = false;

  function apply(name: string, r: ProbeResult | null, problem: string): void {
    const node = state.nodeByName.get(name);
    if (!node || closed) return;
    if (r === null) {
      if (node.up) log(`node ${name} is down: ${problem}`);
      setNodeMetrics(state, name, { up: false });
      return;
    }
    if (!node.up) log(`node ${name} is up`);
    const capacity = opts.probedCapacity(name);
    if ((capacity.cores && node.spec.cores !== r.cores) || (capacity.memory && node.spec.memGB !== r.memTotalGB)) {
      node.spec = { ...node.spec, cores: capacity.cores ? r.cores : node.spec.cores, memGB: capacity.memory ? r.memTotalGB : node.spec.memGB };
      recountCores(state);
      redistribute(state);
    }
    setNodeMetrics(state, name, { up: true, load: r.load, usedMemGB: r.memUsedGB, outsiders: r.busy === null ? 0 : outsidersFromBusy(state, name, r.busy), disk: r.disk });
  }

  function probeOne(name: string): Promise<void> {
    const already = running.get(name);
    if (already) return already;
    const node = state.nodeByName.get(name);
    if (!node) return Promise.resolve();
    const command = probeCommand(node.spec.checkDir);
    const address = node.spec.address;
    const p = commands
      .run(name, address, command, PROBE_TIMEOUT_MS)
      .then((out) => {
        const r = parseProbe(out);
        apply(name, r, r === null ? 'the probe printed nothing usable' : '');
      })
      .catch((err: Error) => apply(name, null, err.message))
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
    close() {
      closed = true;
      clearInterval(timer);
      commands.close();
    },
  };
}
