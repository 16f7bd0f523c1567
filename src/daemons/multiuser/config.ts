/**
 * The administrator's files as the qpy-multiuser daemon reads them: `nodes`,
 * `distribution_rules` and `allowed_users`, each with the last good version
 * kept in the store. A file that is missing or wrong never stops the daemon:
 * the problem is reported (log, `status` warnings, the admin command's
 * reply) and the last good version stays in force.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { QpyError } from '../../errors.js';
import { DEFAULT_RULES, parseRules, type Rules } from '../../allocator/rules.js';
import { parseAllowedUsers, editAllowedUsers } from '../../allocator/users-file.js';
import type { NodeSpec } from '../../allocator/state.js';
import { parseNodeSpecs } from '../shared/embedded-nodes.js';
import { isLocalAddress } from '../../protocol/cluster.js';
import { parseNodesFile } from '../../allocator/nodes-file.js';
import { DEFAULT_LIMITS, parseLimitsFile, type ClusterLimits } from '../../allocator/limits-file.js';

/** A file's text, or null if it does not exist; other read errors are NODES_FILE/RULES_FILE-style QpyErrors. */
function readText(path: string, code: 'NODES_FILE' | 'RULES_FILE'): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QpyError(code, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The nodes in `path` (throws NODES_FILE); remote ones may leave their capacity to the probes. A missing file means no nodes. */
export function readNodes(path: string): { specs: NodeSpec[]; text: string } {
  const text = readText(path, 'NODES_FILE') ?? '';
  return { specs: parseNodeSpecs(text, path, true), text };
}

/** Which nodes of a nodes file leave their cores or memory to the probes. */
export function capacityFromProbes(text: string): Map<string, { cores: boolean; memory: boolean }> {
  const parsed = parseNodesFile(text);
  if (!parsed.ok) return new Map();
  return new Map(
    parsed.nodes.filter((n) => !isLocalAddress(n.address)).map((n) => [n.name, { cores: n.cores === null, memory: n.memGB === null }]),
  );
}

/** The rules in `path` (throws RULES_FILE). A missing file means `even`. */
export function readRules(path: string): { rules: Rules; text: string } {
  const text = readText(path, 'RULES_FILE');
  if (text === null) return { rules: DEFAULT_RULES, text: 'even\n' };
  return { rules: rulesOf(text, path), text };
}

/** The rules `text` holds (throws RULES_FILE naming `where`). */
function rulesOf(text: string, where: string): Rules {
  const parsed = parseRules(text);
  if (!parsed.ok) throw new QpyError('RULES_FILE', `${where}, ${parsed.message}`);
  return parsed.rules;
}

/** The limits in `path` (throws RULES_FILE, the code of the sharing policy's files). A missing file means the defaults. */
export function readLimits(path: string): { limits: ClusterLimits; text: string } {
  const text = readText(path, 'RULES_FILE');
  if (text === null) return { limits: DEFAULT_LIMITS, text: '' };
  return { limits: limitsOf(text, path), text };
}

/** The limits `text` holds (throws RULES_FILE naming `where`). */
function limitsOf(text: string, where: string): ClusterLimits {
  const parsed = parseLimitsFile(text);
  if (!parsed.ok) throw new QpyError('RULES_FILE', `${where}, ${parsed.message}`);
  return parsed.limits;
}

/** The allowed users (throws USERS_FILE). A missing file allows nobody. */
export function readAllowedUsers(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new QpyError('USERS_FILE', `cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseAllowedUsers(text);
  if (!parsed.ok) throw new QpyError('USERS_FILE', `${path}, ${parsed.message}`);
  return parsed.users;
}

/** Add or remove `name` in the allowed_users file, atomically, keeping its other lines. */
export function editAllowedUsersFile(path: string, name: string, present: boolean): void {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new QpyError('USERS_FILE', `cannot read ${path}: ${(err as Error).message}`);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, editAllowedUsers(text, name, present), { mode: 0o600 });
  renameSync(tmp, path);
}

/** A file as it is in force: `value`; `text` to keep as the last good copy (null if the file was not used); `problem` why not. */
export interface InForce<T> {
  value: T;
  text: string | null;
  problem: QpyError | null;
}

/**
 * Read one file, falling back to its last good text (from the store) when it
 * is wrong, and to `fallback` when there is none.
 */
function withLastGood<T>(
  read: () => { value: T; text: string },
  parseLastGood: (text: string) => T,
  lastGood: string | undefined,
  fallback: T,
): InForce<T> {
  try {
    const { value, text } = read();
    return { value, text, problem: null };
  } catch (err) {
    if (!(err instanceof QpyError)) throw err;
    if (lastGood !== undefined) {
      try {
        return { value: parseLastGood(lastGood), text: null, problem: err };
      } catch {
        // the stored copy no longer parses (say, after an upgrade): use the fallback
      }
    }
    return { value: fallback, text: null, problem: err };
  }
}

/** The nodes in force at start: the file, else its last good copy, else none. */
export function nodesInForce(path: string, lastGood: string | undefined): InForce<NodeSpec[]> {
  const read = () => {
    const r = readNodes(path);
    return { value: r.specs, text: r.text };
  };
  return withLastGood(read, (t) => parseNodeSpecs(t, `${path} (last good copy)`, true), lastGood, []);
}

/** The rules in force at start: the file, else its last good copy, else `even`. */
export function rulesInForce(path: string, lastGood: string | undefined): InForce<Rules> {
  const read = () => {
    const r = readRules(path);
    return { value: r.rules, text: r.text };
  };
  return withLastGood(read, (t) => rulesOf(t, `${path} (last good copy)`), lastGood, DEFAULT_RULES);
}

/** The limits in force at start: the file, else its last good copy, else the defaults. */
export function limitsInForce(path: string, lastGood: string | undefined): InForce<ClusterLimits> {
  const read = () => {
    const r = readLimits(path);
    return { value: r.limits, text: r.text };
  };
  return withLastGood(read, (t) => limitsOf(t, `${path} (last good copy)`), lastGood, DEFAULT_LIMITS);
}
