/**
 * Who is on the other end of a TCP socket on this machine, from Linux /proc:
 * the uid owning a socket and its inode come from /proc/net/tcp and tcp6, the
 * process holding that inode from the `socket:[INODE]` links in /proc/PID/fd
 * (only the processes this account may read), the user name from /etc/passwd.
 * Used to name the peer of a refused handshake and the holder of a port the
 * daemon wants. The parsers are pure; the lookups never throw (no /proc, no
 * match: null, and the caller names the address alone).
 */
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { parsePasswd } from '../accounts.js';

export interface Endpoint {
  address: string;
  port: number;
}

/** One line of /proc/net/tcp{,6}: addresses normalised (see normalizeAddress), the state (0x0A: LISTEN). */
export interface TcpEntry {
  local: Endpoint;
  remote: Endpoint;
  state: number;
  uid: number;
  inode: number;
}

export const TCP_LISTEN = 0x0a;

/** Who holds a socket: its uid, the user name when known, a pid when one could be read. */
export interface SocketOwner {
  uid: number;
  user: string | null;
  pid: number | null;
  /**
   * When the pid cannot be found (another account's descriptors are hidden
   * from us): that account's processes, the holder among them (at most 5).
   */
  candidates?: { pid: number; command: string }[];
}

/** 16 address bytes as text: dotted IPv4 for IPv4-mapped addresses, else eight lowercase hex groups. */
function formatBytes(b: number[]): string {
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** An address as Node or a user writes it (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`), in one comparable form; null if it is not one. */
export function normalizeAddress(text: string): string | null {
  const t = text
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  const v4 = (s: string): number[] | null => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    const parts = m ? m.slice(1).map(Number) : [];
    return m && parts.every((p) => p <= 255) ? parts : null;
  };
  const four = v4(t);
  if (four) return four.join('.');
  if (!t.includes(':')) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const words = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const dotted = i === parts.length - 1 ? v4(p) : null;
      if (dotted) out.push((dotted[0]! << 8) | dotted[1]!, (dotted[2]! << 8) | dotted[3]!);
      else if (/^[0-9a-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return formatBytes(all.flatMap((w) => [w >> 8, w & 0xff]));
}

/** A /proc/net/tcp address field (`0100007F:1F90`): 32-bit words printed in host byte order. */
function parseProcEndpoint(field: string, littleEndian: boolean): Endpoint | null {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(field);
  if (!m) return null;
  const hex = m[1]!;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(littleEndian ? word.reverse() : word));
  }
  const address = bytes.length === 4 ? bytes.join('.') : formatBytes(bytes);
  return { address, port: parseInt(m[2]!, 16) };
}

/** The sockets listed in the text of /proc/net/tcp or /proc/net/tcp6; lines that do not parse are skipped. */
export function parseProcNetTcp(text: string, littleEndian = endianness() === 'LE'): TcpEntry[] {
  const out: TcpEntry[] = [];
  for (const line of text.split('\n')) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const local = parseProcEndpoint(f[1]!, littleEndian);
    const remote = parseProcEndpoint(f[2]!, littleEndian);
    const state = parseInt(f[3]!, 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isFinite(state) || !Number.isSafeInteger(uid) || !Number.isSafeInteger(inode)) continue;
    out.push({ local, remote, state, uid, inode });
  }
  return out;
}

const same = (a: Endpoint, b: Endpoint): boolean => a.port === b.port && a.address === normalizeAddress(b.address);

/**
 * The socket of the client at `peer` connected to us at `ours` (its local end
 * is the peer, its remote end us). Sockets no process holds any more
 * (TIME_WAIT: inode 0, shown as uid 0) are not taken: they would name root.
 */
export function findConnection(entries: readonly TcpEntry[], peer: Endpoint, ours: Endpoint): TcpEntry | undefined {
  return entries.find((e) => e.inode !== 0 && e.state !== TCP_LISTEN && same(e.local, peer) && same(e.remote, ours));
}

const WILDCARDS = new Set(['0.0.0.0', '0:0:0:0:0:0:0:0']);

/** The socket listening on `port` (on `host` or on every address), the one on `host` itself first. */
export function findListener(entries: readonly TcpEntry[], port: number, host?: string): TcpEntry | undefined {
  const listening = entries.filter((e) => e.inode !== 0 && e.state === TCP_LISTEN && e.local.port === port);
  const h = host === undefined ? null : normalizeAddress(host);
  return listening.find((e) => e.local.address === h) ?? listening.find((e) => WILDCARDS.has(e.local.address)) ?? listening[0];
}

/** `uid 1003 mallory, pid 4242` (the parts known). */
export function formatOwner(o: SocketOwner): string {
  return `uid ${o.uid}${o.user ? ` ${o.user}` : ''}${o.pid !== null ? `, pid ${o.pid}` : ''}`;
}

// ---- I/O: never throws -------------------------------------------------------------------------

/** Every TCP socket of this machine (empty where /proc cannot be read). */
export async function readTcpTables(): Promise<TcpEntry[]> {
  const texts = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((p) => readFile(p, 'latin1').catch(() => '')));
  return texts.flatMap((t) => parseProcNetTcp(t));
}

/** The login name of `uid` from /etc/passwd, or null. */
export async function userName(uid: number): Promise<string | null> {
  const text = await readFile('/etc/passwd', 'utf8').catch(() => '');
  return parsePasswd(text).get(uid) ?? null;
}

/** Scans of /proc running now: a flood of refused connections must not start a scan each. */
let scans = 0;
const MAX_SCANS = 4;

/**
 * The first process of `uid` (that this account may look into) holding
 * socket `inode`; null when none is found, after `budgetMs`, or while
 * MAX_SCANS other scans run.
 */
export async function pidOfSocket(inode: number, uid: number | null, budgetMs = 2000): Promise<number | null> {
  if (inode <= 0 || scans >= MAX_SCANS) return null;
  scans++;
  try {
    return await scanFds(`socket:[${inode}]`, uid, Date.now() + budgetMs);
  } finally {
    scans--;
  }
}

async function scanFds(target: string, uid: number | null, deadline: number): Promise<number | null> {
  try {
    const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
    for (const pid of pids) {
      if (Date.now() > deadline) return null;
      if (uid !== null) {
        const st = await stat(`/proc/${pid}`).catch(() => null);
        if (!st || st.uid !== uid) continue;
      }
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === target) return Number(pid);
      }
    }
  } catch {
    /* no /proc */
  }
  return null;
}

async function ownerOf(entry: TcpEntry | undefined): Promise<SocketOwner | null> {
  if (!entry) return null;
  const [user, pid] = await Promise.all([userName(entry.uid), pidOfSocket(entry.inode, entry.uid)]);
  return { uid: entry.uid, user, pid, ...(pid === null ? { candidates: await processesOf(entry.uid) } : {}) };
}

/** Up to `max` processes of `uid`, with their command names (/proc/PID/comm is readable by everyone). */
async function processesOf(uid: number, max = 5): Promise<{ pid: number; command: string }[]> {
  const out: { pid: number; command: string }[] = [];
  try {
    for (const name of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
      const st = await stat(`/proc/${name}`).catch(() => null);
      if (!st || st.uid !== uid) continue;
      out.push({ pid: Number(name), command: (await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '?')).trim() });
      if (out.length >= max) break;
    }
  } catch {
    /* no /proc */
  }
  return out;
}

/** The owner of the client socket at `peer` connected to our `ours`, or null. */
export async function peerOwner(peer: Endpoint, ours: Endpoint): Promise<SocketOwner | null> {
  try {
    return await ownerOf(findConnection(await readTcpTables(), peer, ours));
  } catch {
    return null;
  }
}

/** Who listens on `port` (on `host` or every address), or null. */
export async function portHolder(port: number, host?: string): Promise<SocketOwner | null> {
  try {
    return await ownerOf(findListener(await readTcpTables(), port, host));
  } catch {
    return null;
  }
}

/**
 * A peer as a log names it: `127.0.0.1:50412 (uid 1003 mallory, pid 4242)`
 * when /proc tells who owns its socket (a peer on this machine), else the
 * address and port alone.
 */
export async function describePeer(peer: Partial<Endpoint>, ours: Partial<Endpoint>): Promise<string> {
  if (peer.address === undefined || peer.port === undefined) return 'a local socket';
  const host =
    peer.address.includes(':') && !peer.address.startsWith('::ffff:') ? `[${peer.address}]` : peer.address.replace(/^::ffff:/, '');
  const where = `${host}:${peer.port}`;
  if (ours.address === undefined || ours.port === undefined) return where;
  const owner = await peerOwner(peer as Endpoint, ours as Endpoint);
  return owner ? `${where} (${formatOwner(owner)})` : where;
}
