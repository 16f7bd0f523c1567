/**
 * Where the master's jobs run and who allocates them: the embedded default
 * (the user's `nodes` file, or this machine) or the shared qpy-multiuser
 * daemon named by `multiuser.json` (written by `qpy join`). Either way, each
 * node gets one executor, made when first needed: the shared local executor
 * for nodes at this machine, an SSH executor per remote node, and one over
 * its pilot's link for a Slurm pilot's node reached through its agent. With
 * qpy-multiuser, nodes are learnt from grants; their addresses are kept in
 * the store so a restarted master reaches its running jobs again before
 * qpy-multiuser answers.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { QpyError } from '../../errors.js';
import { int, obj, optional, strMax } from '../../protocol/schema.js';
import type { NodeSpec } from '../../allocator/state.js';
import type { Executor } from '../../executor/executor.js';
import { createLocalExecutor } from '../../executor/local.js';
import { createSshExecutor } from '../../executor/ssh.js';
import { createRouter } from '../../executor/router.js';
import { isLocalAddress } from '../../protocol/cluster.js';

/**
 * multiuser.json, written by `qpy join`; `socket` is the daemon's Unix socket,
 * used on its own host. `fingerprint`: the daemon's TLS certificate, pinned
 * (present when it listens off loopback: the link is then wss://);
 * `previousFingerprint`: the pin before a rotation, also accepted until the
 * new certificate has been seen.
 */
export const multiuserFileSchema = obj({
  address: strMax(1024),
  port: int,
  user: strMax(256),
  socket: optional(strMax(4096)),
  fingerprint: optional(strMax(128)),
  previousFingerprint: optional(strMax(128)),
});
export type MultiuserFile = ReturnType<typeof multiuserFileSchema>;

/** qpy-multiuser's details, or null for the embedded default. A broken file is a QpyError. */
export function readMultiuserFile(path: string): MultiuserFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QpyError('STORE', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return multiuserFileSchema(JSON.parse(text), '$');
  } catch (err) {
    throw new QpyError(
      'STORE',
      `${path} is damaged: ${(err as Error).message}`,
      'join again with the code from your administrator: qpy join …',
    );
  }
}

/** Write multiuser.json atomically (0600). */
export function writeMultiuserFile(path: string, file: MultiuserFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The pinned certificate as the master's link uses it (multiuser-link.ts LinkPin), kept in multiuser.json. */
export function filePin(path: string) {
  const read = (): MultiuserFile | null => {
    try {
      return readMultiuserFile(path);
    } catch {
      return null;
    }
  };
  return {
    pinned: (): string[] => {
      const f = read();
      return [f?.fingerprint, f?.previousFingerprint].filter((p): p is string => p !== undefined);
    },
    store(fingerprint: string): void {
      const f = readMultiuserFile(path);
      if (f === null) throw new QpyError('STORE', `${path} is gone`);
      if (f.fingerprint === fingerprint) return;
      const { previousFingerprint: _dropped, ...rest } = f;
      writeMultiuserFile(path, { ...rest, fingerprint, ...(f.fingerprint !== undefined ? { previousFingerprint: f.fingerprint } : {}) });
    },
    seen(fingerprint: string): void {
      const f = read();
      if (f === null || f.previousFingerprint === undefined || f.fingerprint !== fingerprint) return;
      const { previousFingerprint: _dropped, ...rest } = f;
      writeMultiuserFile(path, rest);
    },
  };
}

/** Node name → address, as stored in the master's meta table. Unreadable text gives an empty book. */
export function parseAddressBook(text: string | undefined): Map<string, string> {
  try {
    const doc = JSON.parse(text ?? '{}') as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return new Map();
    return new Map(Object.entries(doc).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return new Map();
  }
}

export interface NodeExecutors {
  executor: Executor;
  /** Learn (or update) a node's address; true if it changed. */
  learn(node: string, address: string): boolean;
  /** The address book as stored. */
  book(): string;
  names(): string[];
}

/**
 * Executors for the nodes in `known` (name → address), and for nodes learnt
 * later. Remote links are reported to `onLink`.
 */
export function nodeExecutors(
  known: Map<string, string>,
  runDir: string,
  pollMs: number,
  onLink: (node: string, problem: string | null) => void,
  /** The executor of a node at an address neither local nor SSH (a Slurm pilot's agent: `pilot:POOL/JOBID`), or undefined. */
  other?: (node: string, address: string, onLink: (problem: string | null) => void) => Executor | undefined,
): NodeExecutors {
  const addresses = new Map(known);
  let local: Executor | null = null;
  const remote = new Map<string, { address: string; ex: Executor }>();
  const executorFor = (node: string): Executor | undefined => {
    const address = addresses.get(node);
    if (address === undefined) return undefined;
    if (isLocalAddress(address)) return (local ??= createLocalExecutor({ runDir, nodeName: node, pollMs }));
    const r = remote.get(node);
    if (r && r.address === address) return r.ex;
    const ex =
      other?.(node, address, (problem) => onLink(node, problem)) ??
      createSshExecutor({ nodeName: node, address, runDir, pollMs, onLink: (problem) => onLink(node, problem) });
    remote.set(node, { address, ex });
    return ex;
  };
  return {
    executor: createRouter(executorFor),
    learn(node, address) {
      if (addresses.get(node) === address) return false;
      addresses.set(node, address);
      return true;
    },
    book: () => JSON.stringify(Object.fromEntries(addresses)),
    names: () => [...addresses.keys()],
  };
}

/** The address book of the embedded default's nodes. */
export const addressesOf = (nodes: NodeSpec[]): Map<string, string> => new Map(nodes.map((n) => [n.name, n.address]));
