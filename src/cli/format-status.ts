/**
 * Rendering of the cluster status shown by `qpy status` and `qpy-admin
 * status`, byte for byte in the original's layout (spec §6.4): the users
 * table, a newline, the nodes table with its footer, a newline, then any
 * warnings, one `warning: <text>` line each.
 *
 * Fixed on purpose: with no nodes, `No nodes.` is followed by a newline
 * before the footer (the original ran them together, §9.2 item 25).
 */
import { formatGpus } from './format-gpus.js';
import { formatPools } from './format-pools.js';
import { describeLimits } from '../allocator/limits-file.js';
import type { ClusterStatus, NodeView, UserView } from '../protocol/cluster.js';

const RULE = '-'.repeat(88);
const DOUBLE_RULE = '='.repeat(88);

const USERS_HEADER = 'user                          using cores        queue size';
const NODES_HEADER =
  '                                   cores                    memory (GB)       disk (GB)\n' +
  'node                            used  total   load     used     req   total  used  total';

/**
 * Python's `'%.<digits>f' % x`: like `toFixed`, but an exact tie rounds to
 * even (`0.25` → `0.2`, `2.5` → `2`) where `toFixed` rounds up.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const fixed = x.toFixed(digits);
  const long = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const dot = long.indexOf('.');
  const tail = digits === 0 ? long.slice(dot + 1) : long.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return fixed;
  // An exact tie: keep the truncated value when its last digit is even.
  const truncated = digits === 0 ? long.slice(0, dot) : long.slice(0, dot + 1 + digits);
  const last = Number(truncated.charAt(truncated.length - 1));
  if (last % 2 === 1) return fixed;
  return (x < 0 ? '-' : '') + truncated;
}

/** `%<width>.<digits>f`, right-aligned. */
const f = (x: number, width: number, digits: number): string => pyFixed(x, digits).padStart(width);
/** `%<width>d` (right) or `%-<width>d` (left). */
const dRight = (n: number, width: number): string => String(n).padStart(width);
const dLeft = (n: number, width: number): string => String(n).padEnd(width);

/** One user row: name in 32, space, used cores in 5 (left), 13 spaces, queue size in 5 (left). */
export function formatUserRow(user: UserView): string {
  return `${user.name.padEnd(32)} ${dLeft(user.usedCores, 5)}${' '.repeat(13)}${dLeft(user.queueSize, 5)}`;
}

/** The users section, without a final newline: the table, or `No users.`. */
export function formatUsers(users: readonly UserView[]): string {
  if (users.length === 0) return 'No users.';
  return [USERS_HEADER, RULE, ...users.map(formatUserRow), DOUBLE_RULE].join('\n');
}

/**
 * One node row. The label is the name, ` [a,b]` and ` (down)`; when
 * len(down) + len(name) + Σ len(attr) + count(attr) + 2 > 28 the attributes
 * move to the end of the row as `    [a,b]`. Used cores include outsiders;
 * the disk field is blank when unknown.
 */
export function formatNodeRow(node: NodeView): string {
  // ` (down)` as in the original; ` (drained)`, ` (removed)` and ` (unreachable)` (some user's master cannot
  // reach it: the warnings say whose and why) are new, and count as it does.
  const down =
    (node.up ? '' : ' (down)') +
    (node.removed ? ' (removed)' : node.drained ? ' (drained)' : '') +
    (node.up && node.unreachableFor?.length ? ' (unreachable)' : '');
  const attrs = node.attributes;
  const attrText = `[${attrs.join(',')}]`;
  const rowLength = down.length + node.name.length + attrs.reduce((sum, a) => sum + a.length, 0) + attrs.length + 2;
  const tooLong = rowLength > 28;
  const label = node.name + (tooLong || attrs.length === 0 ? '' : ` ${attrText}`) + down;
  const disk = node.disk === null ? '' : `${f(node.disk.usedGB, 5, 0)}  ${f(node.disk.totalGB, 5, 0)}`;
  let row =
    `${label.padEnd(30)} ${dRight(node.usedCores + node.outsiders, 5)} ${dRight(node.cores, 5)} ` +
    `${f(node.load, 7, 1)}  ${f(node.usedMemGB, 7, 1)} ${f(node.reqMemGB, 7, 1)} ` +
    `${f(node.totalMemGB, 7, 1)} ${disk.padStart(12)}`;
  if (tooLong && attrs.length > 0) row += `    ${attrText}`;
  return row;
}

/** The footer line, without a newline. */
export function formatFooter(usedCores: number, totalCores: number): string {
  return `There are ${usedCores} out of a total of ${totalCores} cores being used.`;
}

/** The nodes section with its footer, without a final newline. */
export function formatNodes(nodes: readonly NodeView[], usedCores: number, totalCores: number): string {
  const footer = formatFooter(usedCores, totalCores);
  if (nodes.length === 0) return `No nodes.\n${footer}`;
  return [NODES_HEADER, RULE, ...nodes.map(formatNodeRow), DOUBLE_RULE, footer].join('\n');
}

/**
 * The full status text: users section, newline, nodes section, newline, then
 * `warning: <w>\n` for each warning.
 */
export function formatStatus(status: ClusterStatus, now = Date.now()): string {
  const warnings = status.warnings.map((w) => `warning: ${w}\n`).join('');
  const limits = status.limits === undefined ? '' : `Limits: ${describeLimits(status.limits)}.\n`;
  return `${formatUsers(status.users)}\n${formatNodes(status.nodes, status.usedCores, status.totalCores)}\n${formatGpus(status)}${formatPools(status, now)}${limits}${warnings}`;
}
