/**
 * The `pool` line of a nodes file (issue 18): nodes drawn from a Slurm
 * cluster, one pilot job per node, rather than a machine named in the file.
 *
 *   pool NAME slurm partition=PART nodes=MAX cores=C memory=M time=HH:MM:SS
 *        [idle=MINUTES] [account=A] [qos=Q] [reach=ssh|agent] [back=HOST[:PORT]]
 *
 * A line is a pool line when its first word is `pool` and its second is a
 * bare word that is not a number: `pool cores=4` and `pool 4 M` stay nodes
 * named `pool`, as they were before pools. Pure: the words in, a PoolConfig
 * or a LineError out.
 */
import { isValidAttrName } from './attributes.js';

/** One pool as written in the file. */
export interface PoolConfig {
  name: string;
  /** The batch system it draws nodes from (only Slurm so far). */
  kind: 'slurm';
  partition: string;
  /** `nodes=`: the most pilots (each one node) at once. */
  maxNodes: number;
  /** `cores=`: the cores each pilot asks for and offers to jobs. */
  cores: number;
  /** `memory=`: GB each pilot asks for, like a node's `memory=`. */
  memGB: number;
  /** `time=HH:MM:SS`: each pilot's time limit, in seconds. */
  timeLimitS: number;
  /** `idle=`: minutes (a fraction allowed) a pilot with no job waits before it ends. */
  idleMin: number;
  account: string | null;
  qos: string | null;
  /** How jobs reach a pilot's node: over SSH like any node, or through the node agent the pilot runs. */
  reach: 'ssh' | 'agent';
  /** reach=agent: where pilots connect back to (a host name or address, and a port; 0: any free port); null: this machine's host name. */
  back: { host: string; port: number } | null;
  /** Its line in the file. */
  line: number;
}

export const POOL_KEYS: readonly string[] = ['partition', 'nodes', 'cores', 'memory', 'time', 'idle', 'account', 'qos', 'reach', 'back'];
const REQUIRED = ['partition', 'nodes', 'cores', 'memory', 'time'];
/** `idle=` left out. */
export const DEFAULT_POOL_IDLE_MIN = 10;
/** Sanity bounds: more is surely a typing mistake. */
export const MAX_POOL_NODES = 10_000;
const MAX_IDLE_MIN = 7 * 24 * 60;

export class LineError extends Error {}

/**
 * How long before its limit a pilot "nears" it and takes no job without a
 * `--time`: a tenth of the pool's time, at most 10 minutes (ms).
 */
export function nearEndMs(timeLimitS: number): number {
  return Math.min(600_000, timeLimitS * 100);
}

/** What a job's `--time` must leave free before a pilot's end: a twentieth of the pool's time, at most 30 s (ms). */
export function endMarginMs(timeLimitS: number): number {
  return Math.min(30_000, timeLimitS * 50);
}

/** Is this line (its words) a pool line rather than a node named `pool`? */
export function isPoolLine(words: readonly string[]): boolean {
  const second = words[1];
  return words[0] === 'pool' && second !== undefined && !second.includes('=') && !/^[-+]?[0-9]+$/.test(second);
}

/** Slurm's names (partition, account, QOS): no spaces, quotes or shell characters. */
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
const SLURM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function wholeNumber(value: string, key: string, min: number, max: number, what: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new LineError(`${key} must be ${what} from ${min} to ${max}, got "${value}"`);
  return n;
}

function hhmmss(value: string, name: string): number {
  const m = /^([0-9]{1,5}):([0-9]{2}):([0-9]{2})$/.exec(value);
  const [h, min, s] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  if (!m || min > 59 || s > 59)
    throw new LineError(`pool ${name}: time must be HH:MM:SS (each pilot's time limit, e.g. time=24:00:00), got "${value}"`);
  const seconds = (h * 60 + min) * 60 + s;
  if (seconds <= 0) throw new LineError(`pool ${name}: time must be longer than 00:00:00`);
  return seconds;
}

function idleMinutes(value: string, name: string): number {
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= MAX_IDLE_MIN))
    throw new LineError(`pool ${name}: idle must be minutes from 0 to ${MAX_IDLE_MIN} (e.g. idle=10 or idle=0.5), got "${value}"`);
  return n;
}

/** Parse a pool line's words (isPoolLine holds) found on line `line`. */
export function parsePoolLine(words: readonly string[], line: number): PoolConfig {
  const [, name, kind, ...rest] = words as [string, string, string | undefined, ...string[]];
  if (!isValidAttrName(name)) throw new LineError(`invalid pool name "${name}": use letters, digits, "_", "-" and "."`);
  if (kind !== 'slurm') {
    throw new LineError(
      `pool ${name}: expected the batch system after the name ("pool ${name} slurm …"), got ${kind ? `"${kind}"` : 'nothing'}`,
    );
  }
  const values = new Map<string, string>();
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq <= 0) throw new LineError(`pool ${name}: expected a pair <key>=<value>, but got "${token}"`);
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (!POOL_KEYS.includes(key)) throw new LineError(`pool ${name}: unknown key "${key}" (known keys: ${POOL_KEYS.join(', ')})`);
    if (values.has(key)) throw new LineError(`pool ${name}: "${key}" is given twice`);
    if (value === '') throw new LineError(`pool ${name}: "${key}=" needs a value`);
    values.set(key, value);
  }
  const missing = REQUIRED.filter((k) => !values.has(k));
  if (missing.length > 0) throw new LineError(`pool ${name}: missing ${missing.map((k) => `${k}=`).join(', ')}`);
  const slurmName = (key: string): string | null => {
    const v = values.get(key);
    if (v !== undefined && !SLURM_NAME.test(v))
      throw new LineError(`pool ${name}: ${key} "${v}" is not a Slurm name (letters, digits, "_", "-", ".")`);
    return v ?? null;
  };
  const memory = values.get('memory')!;
  const memGB = DECIMAL.test(memory) ? Number(memory) : NaN;
  if (!(memGB > 0)) throw new LineError(`pool ${name}: memory must be a positive number of GB per pilot, got "${memory}"`);
  const reach = values.get('reach') ?? 'agent';
  if (reach !== 'ssh' && reach !== 'agent') throw new LineError(`pool ${name}: reach must be ssh or agent, got "${reach}"`);
  const idle = values.get('idle');
  const back = values.get('back');
  if (back !== undefined && reach !== 'agent') throw new LineError(`pool ${name}: back= is for reach=agent (where pilots connect back to)`);
  return {
    name,
    kind: 'slurm',
    partition: slurmName('partition')!,
    maxNodes: wholeNumber(values.get('nodes')!, `pool ${name}: nodes`, 1, MAX_POOL_NODES, 'the most pilots at once, a whole number'),
    cores: wholeNumber(values.get('cores')!, `pool ${name}: cores`, 1, 100_000, 'the cores of each pilot, a whole number'),
    memGB,
    timeLimitS: hhmmss(values.get('time')!, name),
    idleMin: idle === undefined ? DEFAULT_POOL_IDLE_MIN : idleMinutes(idle, name),
    account: slurmName('account'),
    qos: slurmName('qos'),
    reach,
    back: back === undefined ? null : backAddress(back, name),
    line,
  };
}

/** `HOST` or `HOST:PORT` (`[V6]:PORT` for an IPv6 address with a port). */
function backAddress(value: string, name: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*))(?::([0-9]{1,5}))?$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 0 : Number(m[3]);
  if (host === undefined || port > 65535 || (m?.[2]?.includes(':') === true && m[3] !== undefined))
    throw new LineError(`pool ${name}: back must be HOST or HOST:PORT (where pilots connect back to), got "${value}"`);
  return { host, port };
}
