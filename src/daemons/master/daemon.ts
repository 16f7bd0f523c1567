/**
 * The per-user master daemon: wires the pure master and allocator cores to
 * the SQLite store, the local executor and the authenticated WebSocket
 * server. Start-up order: lock and restore the store, re-adopt running jobs,
 * register with the allocator, listen, then advertise through the discovery
 * file. Stopping never kills running jobs: they are detached and a later
 * master adopts them.
 */
import { QpyError } from '../../errors.js';
import { userPaths, userName, timing, type UserPaths } from '../../config.js';
import { writeDiscovery, removeDiscovery } from '../../discovery.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { cliToMasterSchema, type CliToMaster } from '../../protocol/user-master.js';
import { ensurePrivateDir, loadOrCreateKey, readKey } from '../../transport/key.js';
import { startServer, type RunningServer } from '../../transport/server.js';
import { openJobStore, type JobStore } from '../../store/job-store.js';
import { createCommitter } from '../../store/group-commit.js';
import { gpuQueueOf } from '../../master/dispatch-plan.js';
import { startHistoryPruner } from './history-pruner.js';
import { restoreState, running, runningSlots } from '../../master/state.js';
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../protocol/settings.js';
import { createAllocator, setNodeMetrics, type NodeSpec } from '../../allocator/state.js';
import { DEFAULT_RULES } from '../../allocator/rules.js';
import { mkdirSync } from 'node:fs';
import type { AllocatorLink } from './allocator-link.js';
import { embeddedLink } from './embedded-allocator.js';
import { multiuserLink } from './multiuser-link.js';
import { multiuserUrl } from './multiuser-address.js';
import { addressesOf, filePin, nodeExecutors, parseAddressBook, readMultiuserFile, type MultiuserFile } from './nodes.js';
import { loadEmbeddedNodes } from '../shared/embedded-nodes.js';
import { Listings } from '../../master/listings.js';
import { Staging } from '../../master/staging.js';
import type { Dispatcher, MasterContext, Runtime } from './context.js';
import { createDispatcher } from './dispatch.js';
import { adoptRunning } from './adopt.js';
import { createNodeHealth, type NodeHealth } from './node-health.js';
import { startGpuProbes } from './gpu-probes.js';
import { pilotExecutors, POOLS_KEY, startPilotHub, startUserPools } from './pools.js';
import { onFinalCommitted } from './final-commits.js';
import type { PoolConfig } from '../../allocator/pool-line.js';
import { createWaits } from './waits.js';
import { handleCli } from './handlers.js';
import { createUserWeb } from './web.js';
import { withEvents } from './events.js';
import { fileLog, type Log } from '../shared/log.js';

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
  let store: JobStore | null = null;
  try {
    const key = loadOrCreateKey(paths.key);
    store = openJobStore(paths.db);
    return await run(paths, store, key, log, opts);
  } catch (err) {
    store?.close();
    log(`did not start: ${(err as Error).message}`);
    throw err;
  }
}

/** The stored settings, over the defaults (a key added by a later qpy gets its default); unreadable ones are logged and replaced. */
function loadSettings(text: string | undefined, log: Log): Settings {
  if (text === undefined) return DEFAULT_SETTINGS;
  try {
    return settingsSchema({ ...DEFAULT_SETTINGS, ...(JSON.parse(text) as object) }, '$');
  } catch (err) {
    log(`stored settings unreadable (${(err as Error).message}): defaults in force`);
    return DEFAULT_SETTINGS;
  }
}

async function run(paths: UserPaths, store: JobStore, key: Buffer, log: Log, opts: MasterOptions): Promise<RunningMaster> {
  const loaded = store.load();
  const state = restoreState(loaded.jobs, loaded.queue, Number(loaded.meta.get('next_id') ?? 1), loaded.meta.get('paused') === 'true');
  for (const s of loaded.skipped) log(`skipped unreadable record: ${s}`); // complete once the jobs were read
  const waits = createWaits();

  // Who allocates: qpy-multiuser if this user joined one, else the embedded allocator over the nodes file.
  let configProblem: QpyError | null = null;
  let shared: MultiuserFile | null = null;
  let nodes: NodeSpec[] = [];
  let pools: PoolConfig[] = [];
  try {
    shared = readMultiuserFile(paths.multiuser);
    if (shared === null) ({ nodes, pools } = loadEmbeddedNodes(paths.nodes));
  } catch (err) {
    if (!(err instanceof QpyError)) throw err;
    configProblem = err;
    log(`configuration problem: ${err.message}`);
  }
  const user = shared?.user ?? userName();
  // Every committed write goes through the event log and the notifiers (events.ts); the user's page hears of it.
  const web = createUserWeb(() => ctx);
  const events = withEvents(store, { path: paths.events, user, state, settings: () => rt.settings, log, now: Date.now }, web.changed);
  const committer = onFinalCommitted(
    createCommitter(events.store, (err) => log(`store write failed: ${err.message}`)),
    waits,
    state.jobs,
  );
  let health: NodeHealth | null = null;
  let dispatcher: Dispatcher | null = null;
  // Pilots of Slurm pools reached through their agent connect back to this hub.
  const hub = shared === null ? await startPilotHub(pools, paths, log) : null;
  const execs = nodeExecutors(
    shared ? parseAddressBook(loaded.meta.get('node_addresses')) : addressesOf(nodes),
    paths.run,
    timing.pollMs,
    (node, problem) => health?.link(node, problem),
    pilotExecutors(hub, paths.run, timing.pollMs),
  );
  const executor = execs.executor;
  const embedded = shared === null ? createAllocator(nodes, DEFAULT_RULES) : null;
  const link: AllocatorLink & { close?(): void } =
    shared === null
      ? embeddedLink(embedded!)
      : multiuserLink({
          url: multiuserUrl(shared),
          key: () => readKey(paths.multiuserKey),
          ...(shared.fingerprint !== undefined ? { pin: filePin(paths.multiuser) } : {}),
          joinAt: `${shared.address.includes(':') ? `[${shared.address}]` : shared.address}:${shared.port}`,
          user,
          log,
          registration: () => ({ running: runningSlots(state), queueSize: state.queue.length, gpuQueue: gpuQueueOf(state) }),
          onRegistered: () => dispatcher?.poke(),
          onAddress: (node, address) => {
            if (execs.learn(node, address)) committer.setMeta('node_addresses', execs.book());
          },
          onNodeGone: (node, reason) => health?.gone(node, reason),
        });

  const settings = loadSettings(loaded.meta.get('settings'), log);
  const notes = new Map<number, string>();
  for (const [k, v] of loaded.meta) if (k.startsWith('note:') && Number.isSafeInteger(Number(k.slice(5)))) notes.set(Number(k.slice(5)), v);
  let stop: () => Promise<void> = () => Promise.resolve();
  const rt: Runtime = {
    state,
    user,
    settings,
    notes,
    staging: new Staging(),
    // Cursors start anywhere, so one left from a master that restarted does not read another listing.
    listings: new Listings(1 + Math.floor(Math.random() * 2 ** 30)),
    refusals: new Map(),
    committer,
    history: store.history,
    executor,
    allocator: link,
    log,
    now: Date.now,
    killGraceMs: timing.killGraceMs,
    stopping: false,
    configProblem,
    scriptsDir: paths.scripts,
    waits,
    adoptFailures: new Set(),
    leftoverOn: (id: number) => health?.leftoverOn(id) ?? null,
    finish: () => void stop(),
    web,
  };
  dispatcher = createDispatcher(rt);
  const d = dispatcher;
  const pruner = startHistoryPruner({
    history: store.history,
    settings: () => rt.settings,
    now: rt.now,
    log,
    everyMs: timing.historyPruneMs,
  });
  executor.onEnded((e) => {
    if (e.error !== undefined) log(`job ${e.jobId} could not start: ${e.error}`);
    d.ended(e.jobId, e);
  });

  // The embedded allocator learns the slots of every job an earlier life left running (the shared
  // daemon is told by the link on each connection); then the jobs are re-adopted.
  const adopted = running(state);
  if (embedded) await link.request({ type: 'register', user, running: runningSlots(state), queueSize: state.queue.length });
  // The user's Slurm pools: pilots that joined in an earlier life are nodes again before adoption.
  const poolRunner =
    embedded && pools.length > 0
      ? startUserPools({
          pools,
          state: embedded,
          paths,
          user,
          log,
          saved: loaded.meta.get(POOLS_KEY),
          rt,
          execs,
          health: () => health,
          d,
          hub,
        })
      : null;
  // From here on, link losses and recoveries of remote nodes are acted on (see node-health.ts).
  health = createNodeHealth(rt, d, {
    nodes: execs.names(),
    downAfterMs: timing.nodeDownAfterMs,
    // With qpy-multiuser, whether a node is down is its probes' call; this master only stops asking for it.
    showDown: (node, down) => void (embedded && setNodeMetrics(embedded, node, { up: !down })),
    storedLeftovers: loaded.meta.get('leftovers'),
  });
  await adoptRunning(rt, d, adopted);
  // The embedded allocator's nodes' GPUs, probed in the background (qpy-multiuser probes its own).
  const gpus = embedded && startGpuProbes({ state: embedded, user, intervalMs: timing.gpuProbeMs, log, onChange: () => d.poke() });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;
  let server: RunningServer | null = null;
  stop = (): Promise<void> => {
    stopping ??= (async () => {
      rt.stopping = true;
      log('stopping (running jobs keep running)');
      await Promise.all([server?.close(), web.close()]);
      health?.close();
      gpus?.close();
      poolRunner?.close();
      await hub?.close();
      pruner.close();
      await d.idle();
      link.close?.();
      await committer.flush().catch(() => undefined);
      events.close();
      await executor.close();
      store.close();
      removeDiscovery(paths.discovery, process.pid);
      log('stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const ctx: MasterContext = Object.assign(rt, { dispatcher: d });
  server = await startServer<CliToMaster>({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    keyFor: (role) => (role === 'user' ? key : null),
    requestSchema: (role) => (role === 'user' ? cliToMasterSchema : null),
    handle: (req) => handleCli(ctx, req),
    handshakeMs: timing.handshakeMs,
    refusalReportMs: timing.refusalReportMs,
    serverName: 'qpy-master',
    log,
  });
  writeDiscovery(paths.discovery, {
    pid: process.pid,
    host: opts.host ?? '127.0.0.1',
    port: server.port,
    protocol: PROTOCOL_VERSION,
    startedAt: Date.now(),
  });
  const where = shared
    ? `qpy-multiuser at ${shared.address}:${shared.port} as ${user}`
    : `nodes: ${nodes.map((n) => `${n.name}(${n.cores})`).join(' ') || 'none'}${pools.map((p) => ` pool ${p.name}(${p.maxNodes}×${p.cores})`).join('')}`;
  log(`started: pid ${process.pid}, port ${server.port}, ${state.jobs.size} jobs (${adopted.length} running), ${where}`);
  d.poke();
  return { port: server.port, pid: process.pid, log, stopped, stop };
}
