/**
 * The `distribution_rules` file and the share computation of §3.4: how many
 * cores each user is guaranteed (min) and may use beyond it (extra).
 *
 * File format: the first non-blank, non-comment line is
 * `even [minimum N] [gpu_minimum G]` or `explicit [minimum N] [gpu_minimum G]`.
 * An explicit file then has one line per user, `user spec [gpus=spec]` or
 * `user=spec [gpus=spec]`, where spec is `[min+]N` or `[min+]P%`. `#` starts
 * a comment. An `even` file may hold nothing else.
 *
 * GPUs (issue 16) are shared by the same rules as cores, apart: `gpus=` is a
 * user's part of the GPUs (its minimum and its extra, in GPUs or a percentage
 * of the GPUs left after all GPU minimums), `gpu_minimum` the GPUs
 * guaranteed to every user. An explicit file that gives no user `gpus=`
 * shares the GPUs evenly (see gpuRules).
 *
 * Decisions where the original was broken or undocumented:
 * - The remainder of an explicit distribution is spread ±1 round-robin over
 *   the listed *registered* users in file order, as at HEAD. When no listed
 *   user is registered, the remainder is NOT distributed (HEAD looped
 *   forever). A negative remainder (over-allocation) only takes from users
 *   whose extra is still positive, so extras never go negative and the loop
 *   always ends (the positive extras always cover the deficit).
 * - Unlisted registered users get min = the global minimum and extra 0, as at
 *   HEAD; they can still borrow idle users' cores (§3.6).
 * - Percentages may be fractional (`12.5%`); the result is floored.
 */

import { configLines } from './config-lines.js';

export interface RuleEntry {
  user: string;
  /** Overrides the global minimum for this user; null keeps it. */
  min: number | null;
  /** Cores, or a percentage of what is left after all minimums. */
  amount: number;
  percent: boolean;
  line: number;
  /** `gpus=spec`: the user's part of the GPUs, as min/amount/percent are of the cores; absent: none given. */
  gpus?: { min: number | null; amount: number; percent: boolean };
}

export interface Rules {
  type: 'even' | 'explicit';
  /** Cores guaranteed to every user unless an explicit line overrides it. */
  minimum: number;
  /** Explicit lines, in file order (always empty for `even`). */
  entries: RuleEntry[];
  /** GPUs guaranteed to every user unless a `gpus=min+…` overrides it; absent: 0. */
  gpuMinimum?: number;
}

export interface Share {
  min: number;
  extra: number;
}

export type RulesResult = { ok: true; rules: Rules } | { ok: false; line: number; message: string };
export type DistributeResult = { ok: true; shares: Map<string, Share> } | { ok: false; message: string };

/** The rules used when the administrator wrote none: everyone equal, no minimum. */
export const DEFAULT_RULES: Rules = { type: 'even', minimum: 0, entries: [] };

const NON_NEG_INT = /^[0-9]+$/;
const SPEC = /^(?:([0-9]+)\+)?([0-9]+(?:\.[0-9]+)?)(%?)$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function fail(line: number, message: string): RulesResult {
  return { ok: false, line, message: `line ${line}: ${message}` };
}

function parseHeader(tokens: string[], line: number): Rules | RulesResult {
  const [type, ...rest] = tokens as [string, ...string[]];
  if (type !== 'even' && type !== 'explicit') {
    return fail(line, `unknown type of distribution "${type}" (expected "even" or "explicit")`);
  }
  const rules: Rules = { type, minimum: 0, entries: [] };
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i += 2) {
    const [word, count] = [rest[i]!, rest[i + 1]];
    if ((word !== 'minimum' && word !== 'gpu_minimum') || seen.has(word))
      return i === 0
        ? fail(line, `expected "minimum" or "gpu_minimum" after "${type}", got "${word}"`)
        : fail(line, `unexpected "${word}" after "${rest.slice(0, i).join(' ')}"`);
    seen.add(word);
    const what = word === 'minimum' ? 'cores' : 'GPUs';
    if (count === undefined || !NON_NEG_INT.test(count) || !Number.isSafeInteger(Number(count))) {
      return fail(line, `"${word}" needs a non-negative integer number of ${what}, got ${count === undefined ? 'nothing' : `"${count}"`}`);
    }
    if (word === 'minimum') rules.minimum = Number(count);
    else rules.gpuMinimum = Number(count);
  }
  return rules;
}

/** A share spec (`[min+]N` or `[min+]P%`) of `user`, for `what` (cores or GPUs), or the problem. */
function parseSpec(spec: string, user: string, what: string): { min: number | null; amount: number; percent: boolean } | string {
  const m = SPEC.exec(spec);
  if (m === null) return `invalid share "${spec}" for user ${user} (expected N, P%, min+N or min+P%)`;
  const amount = Number(m[2]);
  const percent = m[3] === '%';
  if (!percent && !Number.isInteger(amount)) return `the share of user ${user} must be a whole number of ${what} or a percentage`;
  if (percent && amount > 100) return `the share of user ${user} is more than 100%`;
  return { min: m[1] === undefined ? null : Number(m[1]), amount, percent };
}

function parseEntry(content: string, line: number): RuleEntry | RulesResult {
  const all = content.split(/\s+/);
  const gpuToken = all.length > 1 && all[all.length - 1]!.startsWith('gpus=') ? all[all.length - 1]! : null;
  const tokens = gpuToken === null ? all : all.slice(0, -1);
  const text = tokens.join(' ');
  let user: string;
  let spec: string;
  if (tokens.length === 1 && text.includes('=')) {
    const eq = text.indexOf('=');
    user = text.slice(0, eq);
    spec = text.slice(eq + 1);
  } else if (tokens.length === 2) {
    [user, spec] = tokens as [string, string];
  } else {
    return fail(line, `expected "<user> <share> [gpus=<share>]" or "<user>=<share> [gpus=<share>]", got "${content}"`);
  }
  if (!USER.test(user)) return fail(line, `invalid user name "${user}"`);
  const cores = parseSpec(spec, user, 'cores');
  if (typeof cores === 'string') return fail(line, cores);
  const entry: RuleEntry = { user, ...cores, line };
  if (gpuToken !== null) {
    const gpus = parseSpec(gpuToken.slice('gpus='.length), user, 'GPUs');
    if (typeof gpus === 'string') return fail(line, `gpus=: ${gpus}`);
    entry.gpus = gpus;
  }
  return entry;
}

/**
 * The rules the GPUs are shared by: an explicit file's `gpus=` parts (a
 * user without one gets the GPU minimum, as an unlisted user gets the
 * core minimum), or an even split when no user has one.
 */
export function gpuRules(rules: Rules): Rules {
  const entries = rules.entries.flatMap((e) => (e.gpus === undefined ? [] : [{ user: e.user, ...e.gpus, line: e.line }]));
  return { type: entries.length > 0 ? 'explicit' : 'even', minimum: rules.gpuMinimum ?? 0, entries };
}

/** Parse a rules file. Errors name the 1-based line. */
export function parseRules(text: string): RulesResult {
  let rules: Rules | null = null;
  for (const { lineNo, content, words } of configLines(text)) {
    if (rules === null) {
      const header = parseHeader(words, lineNo);
      if ('ok' in header) return header;
      rules = header;
      continue;
    }
    if (rules.type === 'even')
      return fail(lineNo, `an "even" distribution takes no user lines (use "explicit" to give users their own shares)`);
    const entry = parseEntry(content, lineNo);
    if ('ok' in entry) return entry;
    const dup = rules.entries.find((e) => e.user === entry.user);
    if (dup !== undefined) return fail(lineNo, `user ${entry.user} is already listed on line ${dup.line}`);
    rules.entries.push(entry);
  }
  if (rules === null)
    return { ok: false, line: 1, message: 'the distribution rules file is empty (it must start with "even" or "explicit")' };
  return { ok: true, rules };
}

const EXCEEDS = 'Requirement exceeds the number of cores';
const EXCEEDS_GPUS = 'Requirement exceeds the number of GPUs';

/**
 * Compute every registered user's min and extra from the rules, `totalCores`
 * (the sum of the nodes' cores) and the users in registration order (which
 * decides who gets the remainder of an even split). Pure and always
 * terminating; see the header for the remainder rule.
 */
export function distribute(rules: Rules, totalCores: number, usersInRegistrationOrder: string[], gpus = false): DistributeResult {
  const exceeds = gpus ? EXCEEDS_GPUS : EXCEEDS;
  const unit = gpus ? 'GPUs' : 'cores';
  const users = usersInRegistrationOrder;
  const shares = new Map<string, Share>();
  for (const u of users) shares.set(u, { min: rules.minimum, extra: 0 });
  let left = totalCores - rules.minimum * users.length;
  if (left < 0) {
    return {
      ok: false,
      message: `${exceeds}: ${users.length} users × ${gpus ? 'gpu_minimum' : 'minimum'} ${rules.minimum} = ${rules.minimum * users.length} > ${totalCores} ${unit}`,
    };
  }
  if (rules.type === 'even') {
    if (users.length === 0) return { ok: true, shares };
    const each = Math.floor(left / users.length);
    let remainder = left - each * users.length;
    for (const u of users) {
      const share = shares.get(u)!;
      share.extra = each + (remainder > 0 ? 1 : 0);
      if (remainder > 0) remainder--;
    }
    return { ok: true, shares };
  }
  const listed = rules.entries.filter((e) => shares.has(e.user));
  for (const e of listed) {
    if (e.min !== null) {
      left += rules.minimum - e.min;
      shares.get(e.user)!.min = e.min;
    }
  }
  if (left < 0) {
    const mins = [...shares.values()].reduce((s, x) => s + x.min, 0);
    return { ok: false, message: `${exceeds}: the minimums add up to ${mins} > ${totalCores} ${unit}` };
  }
  const base = left;
  for (const e of listed) {
    const extra = e.percent ? Math.floor((e.amount * base) / 100) : e.amount;
    shares.get(e.user)!.extra = extra;
    left -= extra;
  }
  spreadRemainder(
    listed.map((e) => shares.get(e.user)!),
    left,
  );
  return { ok: true, shares };
}

/** Spread `left` (±) one core at a time over `targets`, round-robin; never below 0. */
function spreadRemainder(targets: Share[], left: number): void {
  if (targets.length === 0) return;
  let i = 0;
  while (left > 0) {
    targets[i % targets.length]!.extra++;
    left--;
    i++;
  }
  // Σ extra = base − left > −left here, so the positive extras cover the deficit.
  while (left < 0 && targets.some((t) => t.extra > 0)) {
    const t = targets[i % targets.length]!;
    if (t.extra > 0) {
      t.extra--;
      left++;
    }
    i++;
  }
}
