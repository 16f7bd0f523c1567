/**
 * The per-user master daemon: wires the pure master and allocator cores to
 * the SQLite store, the local executor and the authenticated WebSocket
 * server. Start-up order: lock and restore the store, re-adopt running jobs,
 * register with the allocator, listen, then advertise through the discovery
 * file. Stopping never kills running jobs: they are detached and a later
 * master adopts them.
 */
import { QpyError } from '../errors.js';
import { userPaths, userName, timing, type UserPaths } from '../config.js';
import { writeDiscovery, removeDiscovery } from '../discovery.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { cliToMasterSchema, type CliToMaster } from '../protocol/user-master.js';
import { ensurePrivateDir, loadOrCreateKey } from '../transport/key.js';
import { startServer, type RunningServer } from '../transport/server.js';
import { openJobStore, type JobStore } from '../store/job-store.js';
import { createCommitter } from '../store/group-commit.js';
import { restoreState, running } from '../master/state.js';
import { createAllocator, setNodeMetrics } from '../allocator/state.js';
import { DEFAULT_RULES } from '../allocator/rules.js';
import type { NodeSpec } from '../allocator/state.js';
import { createLocalExecutor } from '../executor/local.js';
import { createSshExecutor } from '../executor/ssh.js';
import { createRouter } from '../executor/router.js';
import type { Executor } from '../executor/executor.js';
import { mkdirSync } from 'node:fs';
import { embeddedLink } from './allocator-link.js';
import { isLocalAddress, loadEmbeddedNodes } from './embedded-nodes.js';
import { createDispatcher, type Runtime } from './dispatch.js';
import { adoptRunning } from './adopt.js';
import { createNodeHealth, type NodeHealth } from './node-health.js';
import { handleCli, type HandlerContext } from './master-handlers.js';
import { fileLog, type Log } from './log.js';

export interface MasterOptions {
  paths?: UserPaths;
  host?: string;
  port?: number;
  foreground?: boolean;
}

export interface RunningMaster {
  readonly port: number;
  readonly pid: number;
  /** The master's log (master.log, and stderr in the foreground). */
  readonly log: Log;
  /** Resolves when the master has stopped (after `stop` or a `finish` request). */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

/** Start a master; rejects with a QpyError (ALREADY_RUNNING, STORE…) if it cannot. */
export async function startMaster(opts: MasterOptions = {}): Promise<RunningMaster> {
  const paths = opts.paths ?? userPaths();
  ensurePrivateDir(paths.dir);
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  const log: Log = fileLog(paths.log, opts.foreground ?? false);
  const key = loadOrCreateKey(paths.key);
  const store: JobStore = openJobStore(paths.db);
  try {
    return await run(paths, store, key, log, opts);
  } catch (err) {
    store.close();
    throw err;
  }
}

/**
 * The local executor for nodes at this machine, an SSH executor per remote
 * node, behind one router. Remote links are reported to `onLink`.
 */
function nodeExecutors(nodes: NodeSpec[], runDir: string, pollMs: number, onLink: (node: string, problem: string | null) => void): Executor {
  let local: Executor | null = null;
  const byNode = new Map<string, Executor>();
  for (const n of nodes) {
    if (isLocalAddress(n.address)) byNode.set(n.name, (local ??= createLocalExecutor({ runDir, nodeName: n.name, pollMs })));
    else byNode.set(n.name, createSshExecutor({ nodeName: n.name, address: n.address, runDir, pollMs, onLink: (problem) => onLink(n.name, problem) }));
  }
  return createRouter(byNode);
}

async function run(paths: UserPaths, store: JobStore, key: Buffer, log: Log, opts: MasterOptions): Promise<RunningMaster> {
  const user = userName();
  const loaded = store.load();
  for (const s of loaded.skipped) log(`skipped unreadable record: ${s}`);
  const state = restoreState(loaded.jobs, loaded.queue, Number(loaded.meta.get('next_id') ?? 1), loaded.meta.get('paused') === 'true');

  let configProblem: QpyError | null = null;
  let nodes: NodeSpec[];
  try {
    nodes = loadEmbeddedNodes(paths.nodes).nodes;
  } catch (err) {
    if (!(err instanceof QpyError)) throw err;
    configProblem = err;
    nodes = [];
    log(`nodes file problem: ${err.message}`);
  }
  const allocatorState = createAllocator(nodes, DEFAULT_RULES);
  const allocator = embeddedLink(allocatorState);
  let health: NodeHealth | null = null;
  const executor = nodeExecutors(nodes, paths.run, timing.pollMs, (node, problem) => health?.link(node, problem));
  const committer = createCommitter(store, (err) => log(`store write failed: ${err.message}`));

  const rt: Runtime = { state, user, committer, executor, allocator, log, now: Date.now, killGraceMs: timing.killGraceMs, stopping: false };
  const dispatcher = createDispatcher(rt);
  executor.onEnded((e) => {
    if (e.error !== undefined) log(`job ${e.jobId} could not start: ${e.error}`);
    dispatcher.ended(e.jobId, e.error !== undefined ? { type: 'error', message: e.error } : e.outcome);
  });

  // Register the slots of every job an earlier life left running, then re-adopt them.
  const adopted = running(state);
  const slots = adopted.flatMap((j) => (j.state.type === 'running' ? [{ jobId: j.id, node: j.state.node, cores: j.spec.cores, memGB: j.spec.memGB }] : []));
  await allocator.request({ type: 'register', user, running: slots, queueSize: state.queue.length });
  // From here on, link losses and recoveries of remote nodes are acted on (see node-health.ts).
  health = createNodeHealth(rt, dispatcher, {
    nodes: nodes.map((n) => n.name),
    downAfterMs: timing.nodeDownAfterMs,
    showDown: (node, down) => void setNodeMetrics(allocatorState, node, { up: !down }),
    storedLeftovers: loaded.meta.get('leftovers'),
  });
  await adoptRunning(rt, dispatcher, adopted);

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;
  let server: RunningServer | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      rt.stopping = true;
      log('stopping (running jobs keep running)');
      await server?.close();
      health?.close();
      await dispatcher.idle();
      await committer.flush().catch(() => undefined);
      await executor.close();
      store.close();
      removeDiscovery(paths.discovery, process.pid);
      log('stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const ctx: HandlerContext = Object.assign(rt, { dispatcher, configProblem, finish: () => void stop() });
  server = await startServer<CliToMaster>({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    keyFor: (role) => (role === 'user' ? key : null),
    requestSchema: (role) => (role === 'user' ? cliToMasterSchema : null),
    handle: (req) => handleCli(ctx, req),
    handshakeMs: timing.handshakeMs,
    serverName: 'qpy-master',
    log,
  });
  writeDiscovery(paths.discovery, { pid: process.pid, host: opts.host ?? '127.0.0.1', port: server.port, protocol: PROTOCOL_VERSION, startedAt: Date.now() });
  log(`started: pid ${process.pid}, port ${server.port}, ${state.jobs.size} jobs (${adopted.length} running), nodes: ${nodes.map((n) => `${n.name}(${n.cores})`).join(' ') || 'none'}`);
  dispatcher.poke();
  return { port: server.port, pid: process.pid, log, stopped, stop };
}
