/**
 * The qpy-multiuser daemon: one per site, run by the unprivileged admin
 * account, over the admin directory (QPY_MULTIUSER_DIR). Start-up: check the
 * directory and key permissions, lock the store, rebuild the allocation from
 * it (slots, users in registration order, drained nodes) and apply the
 * admin's files (the last good copy of any that is wrong), both in
 * restore.ts; then, here, listen (with TLS off loopback: tls-certificate.ts;
 * the address and port from listen-address.ts), start the node prober and
 * the watch on dead masters, and advertise in `multiuser.json`. Masters
 * re-register on their own after a restart.
 */
import { writeFileSync } from 'node:fs';
import type { QpyError } from '../../errors.js';
import { multiuserPaths, timing, type MultiuserPaths } from '../../config.js';
import { removeDiscovery, writeDiscovery } from '../../discovery.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { masterToAllocatorSchema, type MasterToAllocator } from '../../protocol/master-allocator.js';
import {
  adminToAllocatorSchema,
  joinToAllocatorSchema,
  type AdminToAllocator,
  type JoinToAllocator,
} from '../../protocol/admin-allocator.js';
import { openAllocatorStore, type AllocatorStore } from '../../store/allocator-store.js';
import { startServer, type Peer, type RunningServer } from '../../transport/server.js';
import { capacityFromProbes } from './config.js';
import { restoreAllocation } from './restore.js';
import { listenError, readOptional } from './listen-address.js';
import { poolsOf, startGroupPools, type GroupPools } from './pools.js';
import { createProber, type Prober } from './node-prober.js';
import { handleAdmin, handleJoin, handleMaster, persistUser } from './handlers.js';
import type { MultiuserContext } from './context.js';
import { watchDeadMasters, type DeadMasterWatch } from './dead-masters.js';
import { keyFor, wrongKey } from './auth.js';
import { fileLog, type Log } from '../shared/log.js';
import { prepareAdminDir } from './admin-dir.js';
import { certificateAtStart, type Certificate } from '../shared/tls-certificate.js';
import { isLoopback } from '../../protocol/cluster.js';
import { certificateRotator } from './certificate-rotation.js';
import { pruneLedgerDaily, recordReaped } from './ledger.js';
import { buildStatus } from '../../allocator/status.js';
import { startSampling, type SampleSeries } from './web-samples.js';
import { webControl } from './web-control.js';

export interface MultiuserOptions {
  paths?: MultiuserPaths;
  foreground?: boolean;
}

export interface RunningMultiuser {
  readonly port: number;
  readonly pid: number;
  readonly log: Log;
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

type Request = MasterToAllocator | AdminToAllocator | JoinToAllocator;

export async function startMultiuser(opts: MultiuserOptions = {}): Promise<RunningMultiuser> {
  const paths = opts.paths ?? multiuserPaths();
  prepareAdminDir(paths);
  const log = fileLog(paths.log, opts.foreground ?? false);
  const store = openAllocatorStore(paths.db);
  try {
    return await run(paths, store, log);
  } catch (err) {
    store.close();
    throw err;
  }
}

async function run(paths: MultiuserPaths, store: AllocatorStore, log: Log): Promise<RunningMultiuser> {
  const { state, meta, problems, invites, nodesText } = await restoreAllocation(paths, store, log);

  const host = readOptional(paths.address) ?? '127.0.0.1';
  const savedPort = Number(readOptional(paths.port) ?? '0');
  // Off loopback the TCP listener speaks TLS; masters pin the certificate (the join code carries its fingerprint).
  let certificate: Certificate | null = isLoopback(host) ? null : await certificateAtStart(paths.tls, log);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let server: RunningServer | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log('stopping');
      prober?.close();
      groupPools?.runner?.close();
      deadMasters?.close();
      stopPruning?.();
      series?.close();
      await web.close();
      await server?.close();
      await store.commit().catch(() => undefined);
      store.close();
      removeDiscovery(paths.discovery, process.pid);
      log('stopped');
      resolveStopped();
    })();
    return stopping;
  };
  // Connected masters, so that room freed by one user's job reaches the others at once,
  // and so that a user's masters can be cut off when its key is replaced.
  const masters = new Map<Peer, string>();
  const disconnectMasters = (user: string, err: QpyError): number => {
    let n = 0;
    for (const [peer, u] of masters) {
      if (u !== user) continue;
      masters.delete(peer);
      deadMasters?.disconnected(u);
      peer.close(err);
      n++;
    }
    return n;
  };
  let wakePending = false;
  const wake = (): void => {
    if (wakePending) return;
    wakePending = true;
    setImmediate(() => {
      wakePending = false;
      for (const [peer, user] of masters) if ((state.userByName.get(user)?.queueSize ?? 0) > 0) peer.send({ type: 'wake' });
    });
  };
  let prober: Prober | null = null;
  let groupPools: GroupPools | null = null;
  let deadMasters: DeadMasterWatch | null = null;
  let stopPruning: (() => void) | null = null;
  const ctx: MultiuserContext = {
    paths,
    state,
    store,
    log,
    now: Date.now,
    problems,
    invites,
    listen: { host, port: 0, fingerprint: certificate?.fingerprint ?? null },
    finish: () => void stop(),
    wake,
    capacity: capacityFromProbes(nodesText ?? meta.get('last_good_nodes') ?? ''),
    probe: (names) => void prober?.probe(names),
    removedUsers: new Set(
      [...meta].filter(([k, v]) => k.startsWith('removed_user:') && v !== '').map(([k]) => k.slice('removed_user:'.length)),
    ),
    disconnectMasters,
    pools: poolsOf(nodesText ?? meta.get('last_good_nodes')),
  };
  let series: SampleSeries | null = null;
  const web = webControl({
    ctx,
    status: () => {
      const s = buildStatus(state);
      return { ...s, warnings: [...ctx.problems.values(), ...s.warnings] };
    },
    series: () => series!,
    tls: () => certificate?.pem ?? null,
  });
  ctx.setWeb = (setting) => web.set(setting);
  const startedAt = Date.now();
  const advertise = (port: number) =>
    writeDiscovery(paths.discovery, {
      pid: process.pid,
      host,
      port,
      protocol: PROTOCOL_VERSION,
      startedAt,
      ...(certificate ? { fingerprint: certificate.fingerprint } : {}),
    });
  const rotator = certificateRotator({
    path: paths.tls,
    current: () => certificate,
    masters: () => [...masters.keys()],
    install: (made) => {
      server!.setCertificate({ key: made.pem, cert: made.pem });
      web.setCertificate(made.pem);
      certificate = made;
      ctx.listen.fingerprint = made.fingerprint;
      advertise(server!.port);
    },
    log,
    confirmMs: timing.certificateConfirmMs,
  });
  ctx.rotateCertificate = () => rotator.rotate();
  const listen = (port: number) =>
    startServer<Request>({
      host,
      port,
      ...(certificate ? { tls: { key: certificate.pem, cert: certificate.pem } } : {}),
      keyFor: (role, user) => keyFor(ctx, role, user),
      wrongKey: (role, user) => wrongKey(ctx, role, user),
      requestSchema: (role) =>
        role === 'master'
          ? masterToAllocatorSchema
          : role === 'admin'
            ? adminToAllocatorSchema
            : role === 'join'
              ? joinToAllocatorSchema
              : null,
      handle: (req, peer) => {
        if (peer.role === 'master' && req.type === 'certificateStored' && req.user === peer.user) rotator.stored(peer, req.fingerprint);
        if (peer.role === 'master') return handleMaster(ctx, req as MasterToAllocator, peer.user);
        if (peer.role === 'admin') return handleAdmin(ctx, req as AdminToAllocator);
        return handleJoin(ctx, req as JoinToAllocator, peer);
      },
      handshakeMs: timing.handshakeMs,
      refusalReportMs: timing.refusalReportMs,
      serverName: 'qpy-multiuser',
      socketPath: paths.socket,
      log,
      onAuthenticated: (peer) => {
        if (peer.role !== 'master') return;
        masters.set(peer, peer.user);
        deadMasters?.connected(peer.user);
      },
      onDisconnect: (peer) => {
        if (masters.delete(peer)) deadMasters?.disconnected(peer.user);
        rotator.disconnected(peer);
      },
    });
  // The group's Slurm pools: pilots that joined in an earlier life are nodes again before masters register.
  groupPools = startGroupPools(ctx, [...ctx.pools], (node, reason) => {
    for (const peer of masters.keys()) peer.send({ type: 'nodeGone', node, reason });
  });
  try {
    server = await listen(Number.isSafeInteger(savedPort) && savedPort > 0 && savedPort < 65536 ? savedPort : 0);
  } catch (err) {
    throw await listenError(err, savedPort, host, paths);
  }
  ctx.listen.port = server.port;
  if (savedPort !== server.port) writeFileSync(paths.port, `${server.port}\n`, { mode: 0o600 });
  // QPY_PROBE_MS=0 turns probing off: nodes are taken as up, with the capacity the file gives.
  if (timing.probeMs > 0) {
    prober = createProber({
      state,
      log,
      intervalMs: timing.probeMs,
      probedCapacity: (name) => ctx.capacity.get(name) ?? { cores: false, memory: false },
      onChange: () => {
        deadMasters?.check();
        wake();
      },
    });
    void prober.probe();
  }
  deadMasters = watchDeadMasters({
    state,
    prober: () => prober,
    graceMs: timing.masterGraceMs,
    now: Date.now,
    log,
    released: (user, slots) => {
      recordReaped(ctx, user, slots);
      persistUser(ctx, user);
      void store.commit().catch((err: Error) => log(`store: ${err.message}`));
      wake();
    },
  });
  series = startSampling({ state, store, intervalMs: timing.webSampleMs, now: Date.now, log, onSample: () => web.sampled() });
  await web.applyFile();
  if (timing.ledgerDays > 0) stopPruning = pruneLedgerDaily(store, timing.ledgerDays, Date.now, log);
  advertise(server.port);
  log(
    `started: pid ${process.pid}, ${host}:${server.port}` +
      `${certificate ? ` (TLS, certificate SHA-256 ${certificate.fingerprint})` : ''}, ` +
      `nodes: ${state.nodes.map((n) => `${n.spec.name}(${n.spec.cores})`).join(' ') || 'none'}` +
      `${ctx.pools.map((p) => ` pool ${p.name}(${p.maxNodes}×${p.cores})`).join('')}, rules: ${state.rules.type}`,
  );
  return { port: server.port, pid: process.pid, log, stopped, stop };
}
