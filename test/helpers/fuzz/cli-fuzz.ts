/**
 * The CLI-argument fuzzer: random `qpy` invocations (commands, options, IDs
 * and ranges, attribute expressions, unicode, very long arguments, unknown
 * words) against a running master. Each must exit 0 or 1; an error is
 * exactly one line on stderr (help text, which starts with `Usage:`, aside),
 * never a stack trace or an internal error; and the master must be the same
 * live process afterwards. Commands that would wait forever (wait, follow),
 * stop or replace the master (finish, restart), reach the network (join) or
 * start the queue (ctrlQueue continue) are never generated: the master's
 * queue stays paused, so nothing submitted here runs.
 */
import type { RunResult } from '../qpy.js';
import { pidAlive } from '../../../src/discovery.js';
import { EXPRESSIONS } from './frames.js';
import { Rng } from '../prng.js';

export interface CliFuzzOptions {
  seed: number;
  count: number;
  /** Run `qpy ARGS` (with `input` on standard input) as the user whose master is attacked. */
  run(args: string[], input?: string): Promise<RunResult>;
  /** The master's pid now (null: none). */
  masterPid(): number | null;
  /** Invocations run at once. */
  concurrency?: number;
}

export interface CliFuzzReport {
  seed: number;
  count: number;
  tried: Map<string, number>;
  exits: Map<string, number>;
  findings: string[];
  ms: number;
}

const STATUS = ['queue', 'starting', 'running', 'done', 'failed', 'killed', 'undone', 'node_failed', 'all'];
const IDS = [
  '1',
  '2',
  '3-5',
  '1,2,3',
  '5-3',
  '0',
  '-1',
  '1-',
  '-',
  ',',
  '1,,2',
  '3-10,20',
  '99999999999999999999',
  '9007199254740993',
  '1e3',
  '0x10',
  '1.5',
  '١٢',
  '+1',
  ' 1',
  '1-9007199254740991',
  '*',
];
const NUMBERS = [
  '0',
  '1',
  '2',
  '-1',
  '1.5',
  '1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  '',
  'abc',
  '0x10',
  ' 3',
  '1e-400',
  '-0',
  '100000',
  '100001',
  '1000000',
];
const UNICODE = [
  'é',
  '中文',
  '\u202eevil',
  '\ud83d\ude00',
  'e\u0301',
  '\u200b',
  '\u001b[31mred',
  'ﬀ',
  'Ω',
  '\u0645\u0631\u062d\u0628\u0627',
];
const WORDS = [
  'all',
  'queue',
  'big',
  '--',
  '-',
  '--json',
  '-g',
  '--force',
  'true',
  'echo hi',
  '%j',
  '$(id)',
  '`id`',
  ';',
  '&&',
  '|',
  '>',
  '<',
  '*',
  '~',
  '.',
  '..',
  '/',
  '/nonexistent/dir',
  '/tmp',
  "'",
  '"',
  '\\',
  '\t',
  '\n',
  ' ',
];
const OPTIONS: Record<string, string[]> = {
  sub: [
    '-n',
    '--cores',
    '-m',
    '--mem',
    '-a',
    '--attributes',
    '--array',
    '--after',
    '--afterok',
    '--retry',
    '-p',
    '--priority',
    '-c',
    '--copyScript',
    '-o',
    '--originalScript',
  ],
  load: ['-n', '-m', '-a', '--retry', '-p', '--after', '--afterok'],
  check: ['-g', '--groups', '--json'],
  rerun: ['--force'],
  status: ['--json', '-v'],
  config: [],
};
const TAKES_VALUE = new Set([
  '-n',
  '--cores',
  '-m',
  '--mem',
  '-a',
  '--attributes',
  '--array',
  '--after',
  '--afterok',
  '--retry',
  '-p',
  '--priority',
]);
const COMMANDS = [
  'sub',
  'sub',
  'sub',
  'load',
  'check',
  'check',
  'kill',
  'clean',
  'retry',
  'rerun',
  'status',
  'why',
  'config',
  'ctrlQueue',
  'hold',
  'release',
  'notes',
  'tutorial',
  'completion',
  'help',
  '',
  'frobnicate',
  '--version',
  '-V',
  '--help',
  'Sub',
  'sub\u00a0',
];
const SETTING_KEYS = [
  'checkFMT',
  'colour',
  'coloursScheme',
  'copyScripts',
  'defaultAttr',
  'andAttr',
  'orAttr',
  'sourceTheseFiles',
  'nope',
  '',
];

function word(rng: Rng): string {
  return rng.weighted([
    [() => rng.pick(IDS), 5],
    [() => rng.pick(STATUS), 3],
    [() => rng.pick(NUMBERS), 2],
    [() => rng.pick(UNICODE), 2],
    [() => rng.pick(WORDS), 3],
    [() => rng.pick(EXPRESSIONS), 1],
    [() => 'x'.repeat(rng.pick([1000, 10_000, 100_000])), 1],
    [() => `--${rng.pick(['bogus', 'cores', 'n', 'json=1', ''])}`, 1],
  ] as const)();
}

/** The arguments of one random invocation (never a forbidden command: see the header; no NUL, which no argument can hold). */
export function randomInvocation(rng: Rng): { args: string[]; input?: string } {
  const inv = anyInvocation(rng);
  return { ...inv, args: inv.args.map((a) => a.replace(/\0/g, '\\0')) };
}

function anyInvocation(rng: Rng): { args: string[]; input?: string } {
  const cmd = rng.pick(COMMANDS);
  const args = cmd === '' ? [] : [cmd];
  const n = rng.weighted([
    [0, 2],
    [1, 4],
    [2, 3],
    [3, 2],
    [5, 1],
  ] as const);
  const opts = OPTIONS[cmd] ?? [];
  for (let i = 0; i < n; i++) {
    if (opts.length && rng.chance(0.4)) {
      const o = rng.pick(opts);
      args.push(o);
      if (TAKES_VALUE.has(o) && rng.chance(0.9))
        args.push(
          o === '-a' || o === '--attributes'
            ? rng.pick([...EXPRESSIONS, word(rng)])
            : rng.chance(0.6)
              ? rng.pick(NUMBERS.concat(IDS))
              : word(rng),
        );
    } else if (cmd === 'config' && i === 0) args.push(rng.pick(SETTING_KEYS));
    else if (cmd === 'ctrlQueue' && i === 0) args.push(rng.pick(['pause', 'jump', 'jump', 'Continue', 'stop', '']));
    else args.push(word(rng));
  }
  if (cmd === 'sub' && rng.chance(0.8)) args.push(rng.pick(['true', 'echo hi', 'sleep 1', 'exit 3', word(rng)]));
  if (cmd === 'load') {
    const file = rng.pick(['-', '-', '/nonexistent', '/etc/hostname', '/tmp', '']);
    args.push(file);
    if (file === '-')
      return { args, input: Array.from({ length: rng.int(0, 5) }, () => rng.pick(['true', '', '# c', 'echo é', word(rng)])).join('\n') };
  }
  return { args };
}

/** A command line as a report shows it (long arguments cut). */
const shown = (args: string[]) => JSON.stringify(args.map((a) => (a.length > 60 ? `${a.slice(0, 30)}…(${a.length} chars)` : a)));

export async function fuzzCli(opts: CliFuzzOptions): Promise<CliFuzzReport> {
  const rng = new Rng(opts.seed);
  const invocations = Array.from({ length: opts.count }, () => randomInvocation(rng));
  const report: CliFuzzReport = { seed: opts.seed, count: opts.count, tried: new Map(), exits: new Map(), findings: [], ms: 0 };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const find = (s: string) => void (report.findings.length < 100 && report.findings.push(s));
  const pid = opts.masterPid();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < invocations.length) {
      const inv = invocations[next++]!;
      bump(report.tried, inv.args[0] === undefined ? '(none)' : /^[a-zA-Z-]{1,20}$/.test(inv.args[0]) ? inv.args[0] : '(odd word)');
      let r: RunResult;
      try {
        r = await opts.run(inv.args, inv.input);
      } catch (err) {
        find(`cannot run qpy ${shown(inv.args)}: ${(err as Error).message}`);
        continue;
      }
      bump(report.exits, `exit ${r.code}`);
      const err = r.stderr.replace(/\n$/, '');
      if (r.code !== 0 && r.code !== 1) find(`exit ${r.code}: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (/\n\s+at |node:internal|\.js:\d+:\d+/.test(r.stderr + r.stdout))
        find(`a stack trace: qpy ${shown(inv.args)}: ${err.slice(0, 500)}`);
      if (/internal error|INTERNAL/.test(err)) find(`an internal error: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (r.code === 1 && !/^Usage:|\nUsage:/.test(err) && err.split('\n').length !== 1)
        find(`${err.split('\n').length} lines on stderr: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (r.code === 1 && err === '') find(`exit 1 with nothing on stderr: qpy ${shown(inv.args)}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  report.ms = Math.round(performance.now() - started);
  const now = opts.masterPid();
  if (pid === null || now !== pid || !pidAlive(pid)) find(`the master did not survive: pid ${pid} before, ${now} after`);
  return report;
}

export function formatCliReport(r: CliFuzzReport): string {
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return [
    `CLI fuzz: seed ${r.seed}, ${r.count} qpy invocations in ${(r.ms / 1000).toFixed(1)} s`,
    `  tried: ${list(r.tried)}`,
    `  exits: ${list(r.exits)}`,
    `  found: ${r.findings.length === 0 ? 'nothing' : `${r.findings.length} problems:`}`,
    ...r.findings.map((f) => `    - ${f}`),
  ].join('\n');
}
