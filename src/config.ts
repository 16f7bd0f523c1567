/**
 * Well-known paths and tunables. `QPY_DIR` (default ~/.qpy) is the user
 * directory; `QPY_MULTIUSER_DIR` (default ~/.qpy-multiuser) the admin
 * directory. Tests, and several simulated users on one account, set these to
 * keep their state apart.
 */
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

/** The files of one user's qpy directory. */
export interface UserPaths {
  dir: string;
  db: string;
  key: string;
  discovery: string;
  log: string;
  nodes: string;
  run: string;
  /** Where the shared qpy-multiuser daemon is, written by `qpy join` (absent: the embedded default). */
  multiuser: string;
  /** This user's key at the qpy-multiuser daemon. */
  multiuserKey: string;
  /** Copies of submitted scripts (copyScripts, `sub -c`), one per job until it is final. */
  scripts: string;
  /** The event log: one JSON line per job status change (manual/files.md), rotated to events.jsonl.1 … */
  events: string;
  /** The user's Slurm pools: each one's pilot script and Slurm output, `pools/NAME/` (issue 18). */
  pools: string;
}

/** The files of the administrator's directory (the qpy-multiuser daemon's). */
export interface MultiuserPaths {
  dir: string;
  nodes: string;
  allowedUsers: string;
  rules: string;
  /** Optional: the cluster's limits (allocator/limits-file.ts). */
  limits: string;
  /** Optional: the address to listen on (default this machine, 127.0.0.1). */
  address: string;
  /** The port, chosen at first start and kept, so users' connection details stay valid. */
  port: string;
  adminKey: string;
  /** One key per user, `<name>.key`. */
  keys: string;
  db: string;
  discovery: string;
  log: string;
  /** The Unix domain socket masters on this host connect to (the directory is 0711 so they can reach it). */
  socket: string;
  /** The TLS private key and self-signed certificate, PEM in one file (0600), when listening off loopback. */
  tls: string;
  /** Optional: whether qpy-multiuser serves the cluster page, and where (`on [ADDRESS:PORT]` or `off`). */
  web: string;
}

export function multiuserPaths(dir = multiuserDir()): MultiuserPaths {
  return {
    dir,
    nodes: join(dir, 'nodes'),
    allowedUsers: join(dir, 'allowed_users'),
    rules: join(dir, 'distribution_rules'),
    limits: join(dir, 'limits'),
    address: join(dir, 'multiuser_connection_address'),
    port: join(dir, 'multiuser_connection_port'),
    adminKey: join(dir, 'admin.key'),
    keys: join(dir, 'keys'),
    db: join(dir, 'multiuser.db'),
    discovery: join(dir, 'multiuser.json'),
    log: join(dir, 'multiuser.log'),
    socket: join(dir, 'multiuser.sock'),
    tls: join(dir, 'tls.pem'),
    web: join(dir, 'web'),
  };
}

export function userDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['QPY_DIR'];
  return resolve(fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir(), '.qpy'));
}

export function multiuserDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['QPY_MULTIUSER_DIR'];
  return resolve(fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir(), '.qpy-multiuser'));
}

export function userPaths(dir = userDir()): UserPaths {
  return {
    dir,
    db: join(dir, 'master.db'),
    key: join(dir, 'master.key'),
    discovery: join(dir, 'master.json'),
    log: join(dir, 'master.log'),
    nodes: join(dir, 'nodes'),
    run: join(dir, 'run'),
    multiuser: join(dir, 'multiuser.json'),
    multiuserKey: join(dir, 'multiuser.key'),
    scripts: join(dir, 'scripts'),
    events: join(dir, 'events.jsonl'),
    pools: join(dir, 'pools'),
  };
}

/** The logical user name: `QPY_USER` if set (simulated users), else the login name. */
export function userName(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['QPY_USER'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : userInfo().username;
}

/**
 * Timing defaults, overridable through the environment for tests. Read on each use, never at load:
 * the CLI's start-up snapshot (src/cli/snapshot.ts) would freeze a value read at load.
 */
export const timing = {
  /** Unauthenticated sockets are closed after this long. */
  get handshakeMs() {
    return envInt('QPY_HANDSHAKE_MS', 5000);
  },
  /** Refused handshakes past the first few of a peer are logged as counts this often. */
  get refusalReportMs() {
    return envInt('QPY_REFUSAL_REPORT_MS', 60_000);
  },
  /** Grace between TERM and KILL when killing a job. */
  get killGraceMs() {
    return envInt('QPY_KILL_GRACE_MS', 5000);
  },
  /** How long the CLI waits for a master to start. */
  get masterStartMs() {
    return envInt('QPY_MASTER_START_MS', 15000);
  },
  /** Safety-net poll of running jobs (ends are normally seen at once). */
  get pollMs() {
    return envInt('QPY_POLL_MS', 1000);
  },
  /** A node unreachable this long is down: its running jobs become node_failed. */
  get nodeDownAfterMs() {
    return envInt('QPY_NODE_DOWN_AFTER_MS', 60_000);
  },
  /** How often the master prunes history past historyDays and historyJobs (and once soon after it starts). */
  get historyPruneMs() {
    return envInt('QPY_HISTORY_PRUNE_MS', 60_000);
  },
  /** How often qpy-multiuser probes its nodes (load, memory, outsiders, up or down); 0: never. */
  get probeMs() {
    return envInt('QPY_PROBE_MS', 60_000);
  },
  /** How often a master without qpy-multiuser probes its nodes' GPUs (nvidia-smi); 0: at start only. */
  get gpuProbeMs() {
    return envInt('QPY_GPU_PROBE_MS', 60_000);
  },
  /** qpy-multiuser gives back the slots of a master away this long whose jobs are gone from its probes' lists. */
  get masterGraceMs() {
    return envInt('QPY_MASTER_GRACE_MS', 30_000);
  },
  /** A notifier (notifyCommand, sendmail) still running after this long is killed. */
  get notifyTimeoutMs() {
    return envInt('QPY_NOTIFY_TIMEOUT_MS', 60_000);
  },
  /** qpy-multiuser's ledger keeps rows released this many days ago at most (pruned daily); 0: keeps them all. */
  get ledgerDays() {
    return envInt('QPY_LEDGER_DAYS', 365);
  },
  /** At a certificate rotation, qpy-multiuser waits this long for its connected masters to store the new fingerprint. */
  get certificateConfirmMs() {
    return envInt('QPY_CERTIFICATE_CONFIRM_MS', 10_000);
  },
  /** How often qpy-multiuser samples its cores for the cluster page's plots (kept a day; every 30th a coarse mean, kept 8 days); 0: never. */
  get webSampleMs() {
    return envInt('QPY_WEB_SAMPLE_MS', 10_000);
  },
  /** The least time between two `squeue` of one Slurm pool (issue 18): Slurm's sites rate-limit it. */
  get poolPollMs() {
    return envInt('QPY_POOL_POLL_MS', 10_000);
  },
  /** How often a Slurm pool's runner decides (submit, join, drain, end pilots). */
  get poolTickMs() {
    return envInt('QPY_POOL_TICK_MS', 1000);
  },
};

/** Sizes, overridable through the environment for tests and benches (read on each use, as `timing`). */
export const limits = {
  /** events.jsonl is rotated once it would grow past this many bytes; 0: no event log is written. */
  get eventLogBytes() {
    return envInt('QPY_EVENTS_MAX_BYTES', 64 * 1024 * 1024);
  },
  /** How many rotated event logs are kept (events.jsonl.1 … .N). */
  eventLogsKept: 3,
};

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}
