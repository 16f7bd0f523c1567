/**
 * `qpy load FILE|-` (qdo's `load`): one job per line of FILE (or standard
 * input), all sharing the options (-n, -m, -g, -t, -a, --priority, --retry, --after,
 * --afterok, --name, --out, --err: `%a` is a job's line number among the
 * commands), submitted in one transaction: the lines go to the master in
 * parts, and only the last part commits them all. Blank lines and lines
 * starting with `#` are skipped. A progress line shows on a terminal.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';
import { MAX_BULK_COMMANDS, MAX_REQUEST_BYTES_HINT } from '../../protocol/user-master.js';
import { DEFAULT_CORES, DEFAULT_MEM_GB, parseCores, parseGpus, parseMem, sharedOptions } from './sub.js';

export const load: CommandDef = {
  name: 'load',
  summary: 'Submit one job per line of a file (or - for standard input), in one transaction',
  configure(cmd) {
    cmd
      .argument('<file>', 'the commands, one per line; - reads standard input')
      .option('-n, --cores <N>', `cores of each job (default ${DEFAULT_CORES})`)
      .option('-m, --mem <GB>', `memory of each job in GB (default ${DEFAULT_MEM_GB})`)
      .option('-g, --gpus <N>', 'GPUs of each job (default 0)')
      .option('-t, --time <LIMIT>', 'time limit of each job (MM, HH:MM:SS, D-HH:MM:SS or none)')
      .option('-a, --attributes <EXPR>', 'node attribute expression for each job')
      .option('-p, --priority <N>', 'priority of each job')
      .option('--retry <N>', 'retries of each job')
      .option('--after <IDS>', 'each job starts once these jobs have ended')
      .option('--afterok <IDS>', 'each job starts once these jobs ended done')
      .option('-J, --name <NAME>', 'the name of each job')
      .option('--out <PATTERN>', 'standard output file of each job (%j job ID, %a its index in the load, %x name)')
      .option('--err <PATTERN>', 'standard error file of each job')
      .option('--notify <EVENT>', 'notify at the end of each job (end), at an end other than done (fail), or at its start too (all)');
  },
  complete: (args) => (args.length === 0 ? { kind: 'files' } : { kind: 'none' }),
  async run(ctx, args, opts) {
    const path = args[0]!;
    const template = {
      cwd: ctx.cwd,
      cores: opts['cores'] === undefined ? DEFAULT_CORES : parseCores(opts['cores'] as string),
      memGB: opts['mem'] === undefined ? DEFAULT_MEM_GB : parseMem(opts['mem'] as string),
      attrs: (opts['attributes'] as string | undefined) ?? null,
      ...(opts['gpus'] === undefined || parseGpus(opts['gpus'] as string) === 0 ? {} : { gpus: parseGpus(opts['gpus'] as string) }),
      ...sharedOptions(opts),
    };
    const input: Readable = path === '-' ? process.stdin : createReadStream(path);
    const opened = new Promise<void>((resolve, reject) => {
      input.once('error', (err: NodeJS.ErrnoException) => reject(invalid(`cannot read ${path}: ${err.code ?? err.message}`)));
      input.once('readable', resolve);
      input.once('end', resolve);
    });
    await opened;
    const master = await ctx.master();
    const progress = process.stderr.isTTY === true;
    let part: string[] = [];
    let bytes = 0;
    let stage: number | null = null;
    let sent = 0;
    const send = async (last: boolean) => {
      const reply = await master.request(
        { type: 'submitMany', template, kind: 'load', commands: part, indices: null, cap: null, stage, last },
        600_000,
      );
      sent += part.length;
      part = [];
      bytes = 0;
      if (reply.type !== 'submittedMany') return null;
      stage = reply.stage;
      if (progress && !last) process.stderr.write(`\r${sent} lines sent…`);
      return reply;
    };
    // Empty input has ended already (its 'end' came with 'readable'): a reader made now would wait forever.
    const lines: AsyncIterable<string> | string[] = input.readableEnded ? [] : createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      const command = line.trim();
      if (command === '' || command.startsWith('#')) continue;
      part.push(command);
      bytes += command.length + 8;
      if (part.length >= MAX_BULK_COMMANDS || bytes >= MAX_REQUEST_BYTES_HINT) await send(false);
    }
    if (part.length === 0 && stage === null) throw invalid(`nothing to load: ${path} has no commands`);
    const reply = await send(true);
    if (progress) process.stderr.write('\r\x1b[K');
    if (reply?.first !== null && reply?.first !== undefined)
      ctx.out(`Jobs ${reply.first}-${reply.last} received (load ${reply.first}, ${reply.last! - reply.first + 1} jobs).\n`);
  },
};
