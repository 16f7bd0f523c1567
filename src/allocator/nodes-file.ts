/**
 * The administrator's `nodes` file: one node per line, in either syntax of
 * §3.1 of the reference.
 *
 *   node1 cores=6 address=localhost memory=32 attributes=big,infiband   (key=value, HEAD)
 *   node2 4 M address=host2 big fast                                   (legacy, manual)
 *   gpu1 cores=32 gpus=4 gpu_share=2                                    (GPUs: issue 16)
 *
 * A line is legacy when its second token is an integer (the core count);
 * then a bare `M` marks the node preferred for multicore jobs and any other
 * bare word is an attribute. `key=value` tokens are accepted in both forms.
 * Blank lines and `#` comments (whole-line or trailing) are allowed; a `#`
 * therefore cannot appear inside a value. Every problem is reported with its
 * line number, and nothing is half-loaded: the result is all nodes or an error.
 * A `pool …` line (pool-line.ts) declares a pool of Slurm nodes instead; it
 * is kept beside the nodes, not turned into one.
 */
import { configLines } from './config-lines.js';
import { ATTR_KEYWORDS, isValidAttrName } from './attributes.js';
import { isPoolLine, LineError, parsePoolLine, type PoolConfig } from './pool-line.js';

export type { PoolConfig } from './pool-line.js';

/** One node as written in the file. `cores`/`memGB` null: detect on the node. */
export interface NodeConfig {
  name: string;
  /** Where to run jobs (ssh host); `localhost` runs locally. Defaults to the name. */
  address: string;
  cores: number | null;
  memGB: number | null;
  attributes: string[];
  /** Keep 1-core jobs off this node while other nodes can take them (§3.1 "M"). */
  prefMulticore: boolean;
  /** A directory whose disk usage `status` reports, or null. */
  checkDir: string | null;
  /** `gpus=N`: the node's GPUs are devices 0..N−1; absent: those its probe finds (none until probed). */
  gpus?: number;
  /** `gpu_share=K`: at most K jobs on one GPU at a time; absent: 1 (a GPU is one job's). */
  gpuShare?: number;
}

/** The nodes, and beside them the pools (`pool` lines, pool-line.ts), each in file order. */
export type NodesFileResult = { ok: true; nodes: NodeConfig[]; pools: PoolConfig[] } | { ok: false; line: number; message: string };

/** The keys a `key=value` token may use. */
export const NODE_KEYS: readonly string[] = [
  'address',
  'cores',
  'memory',
  'check_dir',
  'pref_multicore',
  'attributes',
  'gpus',
  'gpu_share',
];

/** The most GPUs one node may declare, and the most jobs one GPU may be shared by (sanity bounds). */
export const MAX_NODE_GPUS = 1024;
export const MAX_GPU_SHARE = 1024;

const POSITIVE_INT = /^[0-9]+$/;
const POSITIVE_NUM = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

function parseCores(text: string, what: string): number {
  const n = POSITIVE_INT.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new LineError(`${what} must be a positive integer, got "${text}" (leave cores out to detect them on the node)`);
  }
  return n;
}

function parseCount(text: string, key: string, min: number, max: number, what: string): number {
  const n = POSITIVE_INT.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new LineError(`${key} must be ${what} to ${max}, got "${text}"`);
  return n;
}

function addAttribute(node: NodeConfig, attr: string): void {
  if (attr === '') throw new LineError('empty attribute name (check for a stray comma)');
  if (ATTR_KEYWORDS.includes(attr)) throw new LineError(`"${attr}" cannot be an attribute: it is an operator of attribute expressions`);
  if (!isValidAttrName(attr)) {
    throw new LineError(`invalid attribute "${attr}": use letters, digits, "_", "-" and "."`);
  }
  if (!node.attributes.includes(attr)) node.attributes.push(attr);
}

function applyKey(node: NodeConfig, seen: Set<string>, token: string): void {
  const eq = token.indexOf('=');
  const key = token.slice(0, eq);
  const value = token.slice(eq + 1);
  if (key === '') throw new LineError(`expected a pair <key>=<value>, but got "${token}"`);
  if (!NODE_KEYS.includes(key)) {
    throw new LineError(`unknown key "${key}" (known keys: ${NODE_KEYS.join(', ')})`);
  }
  if (key !== 'attributes') {
    if (seen.has(key)) throw new LineError(`"${key}" is given twice`);
    seen.add(key);
  }
  if (value === '' && key !== 'attributes') throw new LineError(`"${key}=" needs a value`);
  switch (key) {
    case 'address':
      node.address = value;
      return;
    case 'cores':
      node.cores = parseCores(value, 'cores');
      return;
    case 'memory': {
      const n = POSITIVE_NUM.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n) || n <= 0) {
        throw new LineError(`memory must be a positive number of GB, got "${value}" (leave memory out to detect it)`);
      }
      node.memGB = n;
      return;
    }
    case 'gpus':
      node.gpus = parseCount(value, 'gpus', 0, MAX_NODE_GPUS, 'a whole number of GPUs from 0');
      return;
    case 'gpu_share':
      node.gpuShare = parseCount(value, 'gpu_share', 1, MAX_GPU_SHARE, 'the most jobs on one GPU, a whole number from 1');
      return;
    case 'check_dir':
      node.checkDir = value;
      return;
    case 'pref_multicore':
      if (value !== 'true' && value !== 'false') {
        throw new LineError(`pref_multicore must be true or false, got "${value}"`);
      }
      node.prefMulticore = value === 'true';
      return;
    case 'attributes':
      if (value === '') throw new LineError('"attributes=" needs at least one attribute');
      for (const attr of value.split(',')) addAttribute(node, attr);
      return;
  }
}

function parseLine(tokens: string[]): NodeConfig {
  const [name, ...rest] = tokens as [string, ...string[]];
  if (name.includes('=')) throw new LineError(`a line must start with the node name, got "${name}"`);
  if (!isValidAttrName(name)) {
    throw new LineError(`invalid node name "${name}": use letters, digits, "_", "-" and "."`);
  }
  const node: NodeConfig = { name, address: name, cores: null, memGB: null, attributes: [], prefMulticore: false, checkDir: null };
  const seen = new Set<string>();
  let legacy = false;
  let i = 0;
  const second = rest[0];
  if (second !== undefined && !second.includes('=') && /^[-+]?[0-9]+$/.test(second)) {
    node.cores = parseCores(second, 'the core count');
    seen.add('cores');
    legacy = true;
    i = 1;
  }
  for (; i < rest.length; i++) {
    const token = rest[i]!;
    if (token.includes('=')) applyKey(node, seen, token);
    else if (!legacy) {
      throw new LineError(
        `expected a pair <key>=<value>, but got "${token}" (the legacy form "<name> <cores> [M] [attribute …]" needs the core count second)`,
      );
    } else if (token === 'M') {
      node.prefMulticore = true;
    } else addAttribute(node, token);
  }
  return node;
}

/**
 * Parse the whole nodes file. Either every node, in file order (the order
 * placement scans them), or the first error with its 1-based line number.
 * An empty file is valid and gives no nodes.
 */
export function parseNodesFile(text: string): NodesFileResult {
  const nodes: NodeConfig[] = [];
  const pools: PoolConfig[] = [];
  // Nodes and pools share one name space: a pilot's node will be named after its pool.
  const firstLine = new Map<string, { line: number; what: string }>();
  for (const { lineNo, words } of configLines(text)) {
    let entry: { node: NodeConfig } | { pool: PoolConfig };
    try {
      entry = isPoolLine(words) ? { pool: parsePoolLine(words, lineNo) } : { node: parseLine(words) };
    } catch (err) {
      if (err instanceof LineError) return { ok: false, line: lineNo, message: `line ${lineNo}: ${err.message}` };
      throw err;
    }
    const [name, what] = 'node' in entry ? [entry.node.name, 'node'] : [entry.pool.name, 'pool'];
    const earlier = firstLine.get(name);
    if (earlier !== undefined) {
      return {
        ok: false,
        line: lineNo,
        message: `line ${lineNo}: ${what} "${name}" is already defined on line ${earlier.line}${earlier.what === what ? '' : ` (as a ${earlier.what})`}`,
      };
    }
    firstLine.set(name, { line: lineNo, what });
    if ('node' in entry) nodes.push(entry.node);
    else pools.push(entry.pool);
  }
  return { ok: true, nodes, pools };
}
