/**
 * `qpy-admin`, the administrator's CLI for the qpy-multiuser daemon of
 * $QPY_MULTIUSER_DIR (default ~/.qpy-multiuser). One request per command,
 * with the admin key; every expected failure is one line on stderr, exit 1.
 */
import { QPY_VERSION } from '../protocol/version.js';
import { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { QpyError } from '../errors.js';
import { multiuserPaths } from '../config.js';
import { bashScript } from '../cli/complete-bash.js';
import { completeForShell } from './complete.js';
import { launchDetached } from '../launch-master.js';
import { formatStatus } from '../cli/format-status.js';
import { runProgram } from '../cli/report.js';
import { showGuide } from '../cli/tutorial.js';
import { dirname, join } from 'node:path';
import { JSON_VERSION } from '../cli/command.js';
import { pidAlive } from '../discovery.js';
import { connectAdmin, runningPid } from './connect.js';
import type { AdminToAllocator, AllocatorToAdmin } from '../protocol/admin-allocator.js';
import { joinCodeText } from '../transport/invite.js';
import { TIME_SPEC_FORMS } from '../protocol/time-spec.js';
import { formatReport, reportJson, timeOption } from './format-report.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Run qpy-admin; `daemonEntry` is the qpy-multiuser script. Resolves with the exit status. */
export async function adminMain(argv: string[], daemonEntry: string): Promise<number> {
  const paths = multiuserPaths();
  const out = (s: string) => void process.stdout.write(s);
  const ask = async (msg: DistributiveOmit<AdminToAllocator, 'id'>): Promise<AllocatorToAdmin> => {
    const c = await connectAdmin(paths);
    try {
      return await c.request(msg);
    } finally {
      c.close();
    }
  };
  const program = new Command('qpy-admin')
    .description('qpy-admin: run the shared qpy-multiuser daemon and its users, nodes and rules')
    .version(QPY_VERSION, '-V, --version', 'print the version of qpy')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .showSuggestionAfterError(true);
  const add = (name: string, summary: string, action: (...a: string[]) => Promise<void>, args: string[] = []) => {
    const cmd = program.command(name).summary(summary).description(summary);
    for (const a of args) cmd.argument(a);
    cmd.exitOverride().configureOutput({ writeErr: () => undefined });
    cmd.action((...a: unknown[]) => action(...(a.slice(0, args.length) as string[])));
    return cmd;
  };

  add('start', 'Start qpy-multiuser', async () => {
    const pid = runningPid(paths);
    if (pid !== null) throw new QpyError('ALREADY_RUNNING', `qpy-multiuser is already running (pid ${pid})`);
    const r = await launchDetached(daemonEntry);
    if (r.type !== 'ready') throw new QpyError(r.code as never, r.message, r.hint);
    out(`qpy-multiuser started (pid ${r.pid}, port ${r.port}, directory ${paths.dir}).\n`);
  });
  add('finish', 'Stop qpy-multiuser (jobs keep running; masters reconnect when it is back)', async () => {
    const r = await ask({ type: 'finish' });
    if (r.type !== 'finishing') return;
    for (const deadline = Date.now() + 30_000; pidAlive(r.pid); await delay(20)) {
      if (Date.now() > deadline) throw new QpyError('MASTER_UNREACHABLE', `qpy-multiuser (pid ${r.pid}) did not stop within 30 s`);
    }
    out('qpy-multiuser stopped.\n');
  });
  add('status', 'Show the users and nodes tables (--json: one JSON document)', async () => {
    const r = await ask({ type: 'status' });
    if (r.type !== 'status') return;
    out(
      program.commands.find((c) => c.name() === 'status')!.opts()['json']
        ? `${JSON.stringify({ qpy: JSON_VERSION, ...r.status })}\n`
        : formatStatus(r.status),
    );
  }).option('--json', 'print one JSON document instead of the tables');
  const report = add('report', 'Show each user’s core-hours, GB-hours, jobs and failed jobs, and share against entitlement', async () => {
    const o = report.opts<{ since?: string; until?: string; json?: boolean }>();
    const now = Date.now();
    const r = await ask({ type: 'report', since: timeOption('--since', o.since, now), until: timeOption('--until', o.until, now) });
    if (r.type === 'report') out(o.json ? reportJson(r.report) : formatReport(r.report));
  })
    .option('--since <WHEN>', `the period's start (default: the oldest record): ${TIME_SPEC_FORMS}`)
    .option('--until <WHEN>', 'the period’s end (default: now), in the same forms')
    .option('--json', 'print one JSON document instead of the table');
  add('variables', 'Show the allocator’s counters, nodes and users, for debugging', async () => {
    const r = await ask({ type: 'variables' });
    if (r.type === 'text') out(r.text);
  });
  add('nodes', 'Reload the nodes file (nodes that stay keep their jobs; removed ones drain)', async () => {
    const r = await ask({ type: 'reloadNodes' });
    if (r.type !== 'nodesReloaded') return;
    const list = (w: string, l: string[]) => (l.length ? ` ${w}: ${l.join(' ')}.` : '');
    out(
      `Nodes loaded.${list('Added', r.added)}${list('Removed (they finish their jobs first)', r.removed)}${list('Changed', r.changed)}\n`,
    );
  });
  add('distribute', 'Reload distribution_rules and share the cores again', async () => {
    const r = await ask({ type: 'distribute' });
    if (r.type === 'distributed') out('Cores distributed.\n');
  });
  add('limits', 'Reload the limits file (maximum time limit, memory limits) and print the limits in force', async () => {
    const r = await ask({ type: 'reloadLimits' });
    if (r.type === 'text') out(r.text);
  });
  const usersSummary = 'Add or remove users: users add NAME (again: a new key and code), users remove NAME';
  const users = program.command('users').summary(usersSummary).description(usersSummary);
  users.exitOverride().configureOutput({ writeErr: () => undefined });
  users
    .command('add')
    .argument('<name>')
    .summary('Allow a user (or invite them again, with a new key) and print the command they run to join and its code')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(async (name: string) => {
      const r = await ask({ type: 'addUser', name });
      if (r.type === 'userAdded') out(formatUserAdded(r));
    });
  users
    .command('remove')
    .argument('<name>')
    .summary('Remove a user: their running jobs finish, new ones are refused')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(async (name: string) => {
      const r = await ask({ type: 'removeUser', name });
      if (r.type !== 'userRemoved') return;
      const how = {
        forgotten: 'it held no cores',
        draining: 'its running jobs finish; it gets no new ones',
        unknown: 'it was not registered',
      }[r.result];
      out(`User ${r.name} removed (${how}).\n`);
    });
  program
    .command('tutorial')
    .argument('[words...]', 'a command name or words to find')
    .summary('Show the admin guide, from a command’s section or the first match of some words')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action((words: string[]) =>
      showGuide(
        join(dirname(dirname(daemonEntry)), 'manual', 'admin-guide.md'),
        words,
        program.commands.map((c) => c.name()),
        'qpy-admin',
        out,
      ),
    );
  program
    .command('completion')
    .argument('[shell]', 'bash')
    .summary('Print the bash completion script: add  eval "$(qpy-admin completion bash)"  to ~/.bashrc')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action((shell?: string) => {
      if ((shell ?? 'bash') !== 'bash') throw new QpyError('INVALID_ARGUMENT', `no completion for ${shell}: only bash is supported`);
      out(bashScript('qpy-admin'));
    });
  add(
    'rotate-certificate',
    'Replace the TLS certificate (off loopback): connected masters learn the new one; pending codes stop working',
    async () => {
      const r = await ask({ type: 'rotateCertificate' });
      if (r.type === 'certificateRotated') out(formatRotated(r));
    },
  );
  add(
    'web',
    'Serve the cluster page (web on [ADDRESS:PORT], default 127.0.0.1:8340) or stop it (web off)',
    async (mode, place) => {
      if (mode !== 'on' && mode !== 'off') throw new QpyError('INVALID_ARGUMENT', `web ${mode}: say on [ADDRESS:PORT] or off`);
      if (mode === 'off' && place !== undefined) throw new QpyError('INVALID_ARGUMENT', 'web off takes no address');
      const r = await ask({ type: 'web', setting: place === undefined ? mode : `${mode} ${place}` });
      if (r.type === 'webState') out(formatWebState(r.url));
    },
    ['<on|off>', '[address:port]'],
  );
  add(
    'drain',
    'Take no new jobs on NODE (running ones go on)',
    async (node) => {
      const r = await ask({ type: 'drain', node: node! });
      if (r.type === 'done') out(`${r.message}\n`);
    },
    ['<node>'],
  );
  add(
    'resume',
    'Let a drained NODE take jobs again',
    async (node) => {
      const r = await ask({ type: 'resume', node: node! });
      if (r.type === 'done') out(`${r.message}\n`);
    },
    ['<node>'],
  );

  if (argv[2] === '__complete') return completeForShell(argv.slice(3), paths, program);
  return runProgram('qpy-admin', program, argv);
}

/** What `web` prints: where the page is, and on loopback how to reach it from another machine. */
export function formatWebState(url: string | null): string {
  if (url === null) return 'The cluster page is off.\n';
  const m = /^https?:\/\/(127\.[0-9.]+|localhost|\[::1\]):([0-9]+)\/$/.exec(url);
  const tunnel = m
    ? `It listens on this machine only. From your own machine, open a tunnel and browse http://localhost:${m[2]}/ :\n` +
      `    ssh -L ${m[2]}:${m[1]}:${m[2]} THIS_HOST\n`
    : '';
  return `The cluster page is served at ${url}\n${tunnel}`;
}

/** What `rotate-certificate` prints: the new fingerprint, who learnt it, who must join again. */
export function formatRotated(r: Extract<AllocatorToAdmin, { type: 'certificateRotated' }>): string {
  const missing = r.masters - r.confirmed;
  return (
    `TLS certificate rotated. New SHA-256 fingerprint:\n    ${r.fingerprint}\n(was ${r.previous}).\n` +
    `${r.confirmed} of ${r.masters} connected master${r.masters === 1 ? '' : 's'} stored it and keep working.` +
    (missing > 0
      ? ` ${missing} did not confirm in time: if their users' jobs wait with a certificate error, invite them again (qpy-admin users add NAME).`
      : '') +
    ` Masters that were not connected must join again: invite their users again.\n` +
    (r.invitations > 0
      ? `${r.invitations} pending invitation code${r.invitations === 1 ? ' carries' : 's carry'} the old fingerprint ` +
        `and no longer work${r.invitations === 1 ? 's' : ''}: ` +
        `run qpy-admin users add again for ${r.invitations === 1 ? 'that user' : 'those users'}.\n`
      : '')
  );
}

/** What `users add` prints: the command, and apart from it the code that `qpy join` asks for. */
export function formatUserAdded(r: Extract<AllocatorToAdmin, { type: 'userAdded' }>): string {
  const until = new Date(r.expiresAt).toISOString().replace('T', ' ').slice(0, 16);
  const again = r.replaced
    ? `${r.name} was invited before: a new key was made, and the old one no longer works` +
      `${r.closed ? ` (${r.closed} master connection${r.closed === 1 ? '' : 's'} closed)` : ''}. ` +
      `Running jobs go on; queued ones wait until ${r.name} joins with this code.\n`
    : '';
  return (
    `User ${r.name} ${r.replaced ? 'invited again' : 'added'}. ${again}Send ${r.name} the command and the code below.\n` +
    `The command (${r.name} runs it as themselves):\n\n    qpy join ${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}\n\n` +
    `The invitation code, which qpy join asks for (it works once, until ${until} UTC; ` +
    `send it by another channel than the command if you can):\n\n    ${joinCodeText(r.code, r.fingerprint)}\n\n` +
    (r.fingerprint !== undefined
      ? `qpy-multiuser speaks TLS: the code carries its certificate's SHA-256 fingerprint (its last 52 characters), ` +
        `which qpy join checks:\n    ${r.fingerprint}\n\n`
      : '')
  );
}
