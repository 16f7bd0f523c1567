/**
 * Random `qpy` command lines for the CLI-argument fuzzer (cli-fuzz.ts):
 * commands with their options, IDs and ranges, numbers, attribute
 * expressions, unicode, very long arguments and unknown words. Commands
 * that would wait forever (wait, follow), stop or replace the master
 * (finish, restart), reach the network (join) or start the queue
 * (ctrlQueue continue) are never generated.
 */
import { SETTING_KEYS as KNOWN_SETTING_KEYS } from '../../../src/protocol/settings.js';
import { EXPRESSIONS } from './strings.js';
import type { Rng } from '../prng.js';

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
const SETTING_KEYS = [...KNOWN_SETTING_KEYS, 'nope', ''];

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
