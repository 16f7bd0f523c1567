/**
 * The master's listener for its Slurm pilots with `reach=agent` (issue 18):
 * a TLS WebSocket server (transport/server.ts) that pilots connect back to,
 * so that no inbound connection to a compute node is needed. Its
 * certificate is self-signed, made once and kept in the user's qpy
 * directory (`pilot-tls.pem`, 0600); each pilot pins it through its pilot
 * file, which also carries its pool's secret (random per hub start: the
 * master writes the pilot files again when it starts, and a pilot reads its
 * file again before every connection). A pilot authenticates with role
 * `pilot`, user = its pool, key = the pool's secret, then says `pilotHello`
 * with its Slurm job ID. A second connection claiming the same job replaces
 * the first. What one connection carries is in pilot-transport.ts; the
 * executor reaches a pilot through `transportFor`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { QpyError } from '../../errors.js';
import type { AgentTransport } from '../../executor/agent-link.js';
import type { AgentShell } from '../../executor/agent-script.js';
import { PILOT_HOST, pilotToMasterSchema, SLURM_JOB_ID, type PilotFile, type PilotToMaster } from '../../protocol/pilot.js';
import { startServer, type Peer, type RunningServer } from '../../transport/server.js';
import type { Log } from '../shared/log.js';
import { certificateAtStart, type Certificate } from '../shared/tls-certificate.js';
import { pilotConnection, pilotTransport, type PilotConnection } from './pilot-transport.js';

export interface PilotHubOptions {
  /** Where the TLS key and certificate are kept (made at the first start): `$QPY_DIR/pilot-tls.pem`. */
  certPath: string;
  log: Log;
  /** Unauthenticated sockets are closed this long after they were accepted (default 5 s). */
  handshakeMs?: number;
}

export interface PilotHub {
  /** The SHA-256 fingerprint of the hub's certificate (what pilot files pin). */
  readonly fingerprint: string;
  /** Start listening (port 0: any free port); resolves with the port. Once only. */
  listen(host: string, port: number): Promise<number>;
  /** The port listened on, or null before `listen`. */
  port(): number | null;
  /**
   * Make `pool` known (a secret is drawn on first use) and write its pilot
   * file at `path` (0600, atomically): `connectHost` is the address the
   * pilots reach this master at. Throws a QpyError (STORE) if it cannot be written.
   */
  writePilotFile(pool: string, path: string, connectHost: string): void;
  /** The transport of the pilot running Slurm job `jobId` of `pool`, connected or not (see pilot-transport.ts). */
  transportFor(pool: string, jobId: string, opts?: { agentShell?: AgentShell }): AgentTransport;
  /** Is that pilot connected now? Its host, or null. */
  connected(pool: string, jobId: string): string | null;
  /** Told when a pilot has said hello (also after a reconnection). */
  onPilot(cb: (pool: string, jobId: string, host: string) => void): void;
  /** Told when a pilot's connection has dropped (not when another connection replaced it). */
  onPilotGone(cb: (pool: string, jobId: string) => void): void;
  /** Tell that pilot to exit (pushes `pilotEnd`); false if it is not connected. */
  endPilot(pool: string, jobId: string): boolean;
  /** Stop listening and drop every pilot (their jobs go on; the pilots try to reconnect). */
  close(): Promise<void>;
}

const keyOf = (pool: string, jobId: string) => `${pool}\u0000${jobId}`;

/** Make (or load) the hub's certificate; `listen` then opens its port. */
export async function createPilotHub(opts: PilotHubOptions): Promise<PilotHub> {
  const cert: Certificate = await certificateAtStart(opts.certPath, opts.log, {
    commonName: 'qpy-master-pilots',
    replaceHint: `remove it: a new one is made at the next start`,
  });
  const secrets = new Map<string, Buffer>();
  const pilots = new Map<string, PilotConnection>();
  const byPeer = new Map<Peer, PilotConnection>();
  const waiting = new Map<string, Set<() => void>>();
  const pilotCbs: ((pool: string, jobId: string, host: string) => void)[] = [];
  const goneCbs: ((pool: string, jobId: string) => void)[] = [];
  let server: RunningServer | null = null;

  function hello(req: Extract<PilotToMaster, { type: 'pilotHello' }>, peer: Peer): object {
    if (req.pool !== peer.user) throw new QpyError('BAD_REQUEST', `this connection authenticated for pool ${peer.user}, not ${req.pool}`);
    if (byPeer.has(peer)) throw new QpyError('BAD_REQUEST', 'pilotHello was already said on this connection');
    // The job ID and host become a node's name and what `qpy status` shows: a Slurm job ID and a host name only.
    if (!SLURM_JOB_ID.test(req.jobId)) throw new QpyError('BAD_REQUEST', 'jobId is not a Slurm job ID (digits)');
    if (!PILOT_HOST.test(req.host)) throw new QpyError('BAD_REQUEST', 'host is not a host name (letters, digits, ".", "-", "_")');
    const key = keyOf(req.pool, req.jobId);
    const old = pilots.get(key);
    if (old) {
      opts.log(`pilot ${req.jobId} of pool ${req.pool}: a new connection from ${req.host} replaces the one from ${old.host}`);
      dropConnection(old, 'the pilot connected again');
      for (const [p, c] of byPeer) if (c === old) p.close(new QpyError('UNAUTHENTICATED', 'another connection claimed this pilot'));
    }
    const conn = pilotConnection(req.pool, req.jobId, req.host, (frame) => peer.send(frame));
    pilots.set(key, conn);
    byPeer.set(peer, conn);
    opts.log(`pilot ${req.jobId} of pool ${req.pool} connected from ${req.host}`);
    for (const cb of pilotCbs) cb(req.pool, req.jobId, req.host);
    for (const w of waiting.get(key) ?? []) w();
    return { type: 'pilotWelcome', id: req.id };
  }

  function dropConnection(conn: PilotConnection, why: string): void {
    const key = keyOf(conn.pool, conn.jobId);
    if (pilots.get(key) === conn) pilots.delete(key);
    conn.drop(why);
  }

  function handle(req: PilotToMaster, peer: Peer): object {
    if (req.type === 'pilotHello') return hello(req, peer);
    const conn = byPeer.get(peer);
    if (!conn) throw new QpyError('BAD_REQUEST', 'say pilotHello first');
    if (req.type === 'agentOutput') conn.output(req.channel, req.stdout, req.stderr);
    else if (req.type === 'agentGone') conn.agentGone(req.channel, req.why);
    else conn.rangeData(req.ref, req.data, req.error);
    return { type: 'noted', id: req.id };
  }

  function disconnected(peer: Peer): void {
    const conn = byPeer.get(peer);
    if (!conn) return;
    byPeer.delete(peer);
    const current = pilots.get(keyOf(conn.pool, conn.jobId)) === conn;
    dropConnection(conn, 'the link to the pilot was lost');
    if (!current) return;
    opts.log(`pilot ${conn.jobId} of pool ${conn.pool} (${conn.host}) disconnected`);
    for (const cb of goneCbs) cb(conn.pool, conn.jobId);
  }

  return {
    fingerprint: cert.fingerprint,
    async listen(host, port) {
      if (server) throw new Error('the pilot hub is already listening');
      server = await startServer<PilotToMaster>({
        host,
        port,
        tls: { key: cert.pem, cert: cert.pem },
        keyFor: (role, user) => (role === 'pilot' ? (secrets.get(user) ?? null) : null),
        wrongKey: (_role, user) =>
          new QpyError(
            'UNAUTHENTICATED',
            `wrong key for pool ${user}`,
            'the pilot file is stale: the master writes it again when it starts',
          ),
        requestSchema: (role) => (role === 'pilot' ? pilotToMasterSchema : null),
        handle,
        handshakeMs: opts.handshakeMs ?? 5000,
        serverName: 'qpy-master',
        log: opts.log,
        onDisconnect: disconnected,
      });
      return server.port;
    },
    port: () => server?.port ?? null,
    writePilotFile(pool, path, connectHost) {
      if (!server) throw new Error('the pilot hub is not listening');
      let secret = secrets.get(pool);
      if (!secret) {
        secret = randomBytes(32);
        secrets.set(pool, secret);
      }
      const file: PilotFile = {
        version: 1,
        host: connectHost,
        port: server.port,
        fingerprint: cert.fingerprint,
        pool,
        secret: secret.toString('hex'),
      };
      writePrivate(path, `${JSON.stringify(file)}\n`);
    },
    transportFor(pool, jobId, o = {}) {
      const key = keyOf(pool, jobId);
      return pilotTransport(
        {
          name: `pilot ${jobId} of pool ${pool}`,
          connection: () => pilots.get(key) ?? null,
          returned() {
            let done!: () => void;
            const returned = new Promise<void>((r) => (done = r));
            const set = waiting.get(key) ?? new Set();
            waiting.set(key, set);
            const w = () => {
              cancel();
              done();
            };
            const cancel = () => {
              set.delete(w);
              if (set.size === 0 && waiting.get(key) === set) waiting.delete(key);
            };
            set.add(w);
            return { returned, cancel };
          },
        },
        o.agentShell ?? 'auto',
      );
    },
    connected: (pool, jobId) => pilots.get(keyOf(pool, jobId))?.host ?? null,
    onPilot: (cb) => void pilotCbs.push(cb),
    onPilotGone: (cb) => void goneCbs.push(cb),
    endPilot(pool, jobId) {
      const conn = pilots.get(keyOf(pool, jobId));
      conn?.push({ type: 'pilotEnd' });
      return conn !== undefined;
    },
    async close() {
      for (const conn of [...pilots.values()]) dropConnection(conn, 'the master is stopping');
      byPeer.clear();
      await server?.close();
    },
  };
}

/** Write `text` to `path`, mode 0600, replacing it atomically. */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new QpyError('STORE', `cannot write the pilot file ${path}: ${(err as Error).message}`);
  }
}
