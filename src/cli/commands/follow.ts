/**
 * `qpy follow ID`: print a job's standard output as it grows (like
 * `tail -f`), from the start, and stop once the job is final. The output file
 * is read where the job writes it (its directory: shared with the nodes, as
 * for every job); the end comes from the master, which answers a `wait`.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import type { CommandDef } from '../command.js';
import { invalid, QpyError } from '../../errors.js';

const FOREVER_MS = 2 ** 31 - 1;
/** How often the file is read while the job runs. */
const READ_EVERY_MS = 200;

export const follow: CommandDef = {
  name: 'follow',
  summary: 'Print a job’s output as it grows, until the job ends: follow ID',
  configure(cmd) {
    cmd.argument('<id>', 'a job ID');
  },
  complete: (args) => (args.length === 0 ? { kind: 'words', words: [], from: 'active' } : { kind: 'none' }),
  async run(ctx, args) {
    const word = args[0]!;
    if (!/^[0-9]{1,15}$/.test(word) || Number(word) < 1) throw invalid(`"${word}" is not a job ID`);
    const jobId = Number(word);
    const master = await ctx.master();
    const found = await master.request({ type: 'check', selector: { statuses: [], dirs: [], ranges: [[jobId, jobId]] } });
    const job = found.type === 'jobs' ? found.jobs[0] : undefined;
    if (!job) throw new QpyError('NOT_FOUND', `No job ${jobId}.`, 'see your jobs with: qpy check');
    let ended = false;
    const end = master.request({ type: 'wait', ranges: [[jobId, jobId]], all: false }, FOREVER_MS).then(() => (ended = true));
    end.catch(() => undefined);
    const path = join(job.spec.cwd, `job_${jobId}.out`);
    let offset = 0;
    const buf = Buffer.alloc(64 * 1024);
    const text = new StringDecoder('utf8'); // a character split between two reads is kept whole
    const drain = (): void => {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        return; // not created yet (the job is queued)
      }
      try {
        for (let n = readSync(fd, buf, 0, buf.length, offset); n > 0; n = readSync(fd, buf, 0, buf.length, offset)) {
          offset += n;
          ctx.out(text.write(buf.subarray(0, n)));
        }
      } finally {
        closeSync(fd);
      }
    };
    while (!ended) {
      drain();
      await Promise.race([delay(READ_EVERY_MS), end]);
    }
    drain();
  },
};
