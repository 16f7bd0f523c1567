/**
 * `qpy follow ID`: print a job's standard output (`job_<ID>.out`, or the
 * file its `--out` names, output-names.ts) as it grows (like
 * `tail -f`), from the start, and stop once the job is final. While the job
 * runs, the master reads the file on the job's node (over its SSH
 * connection), so lines show as soon as the job writes them even where the
 * shared file system would show them late; when the node does not answer,
 * and for the rest once the job has ended, the file is read in the job's
 * directory here. The end comes from the master, which answers a `wait`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import type { CommandDef } from '../command.js';
import { invalid, QpyError } from '../../errors.js';
import { OUTPUT_CHUNK } from '../../protocol/user-master.js';
import { outputPath } from '../../protocol/output-names.js';
import { readLocalRange } from '../../file-range.js';

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
    const path = outputPath(jobId, job.spec);
    let offset = 0;
    const text = new StringDecoder('utf8'); // a character split between two reads is kept whole
    const print = (data: Buffer): number => {
      offset += data.length;
      ctx.out(text.write(data));
      return data.length;
    };
    const drainHere = (): void => {
      while (print(readLocalRange(path, offset, OUTPUT_CHUNK)) > 0);
    };
    while (!ended) {
      const r = await master.request({ type: 'output', jobId, offset });
      if (r.type !== 'output' || (r.status !== 'queue' && r.status !== 'running')) break;
      if (!r.read) drainHere();
      else if (print(Buffer.from(r.data, 'base64')) === OUTPUT_CHUNK) continue; // more at once
      await Promise.race([delay(READ_EVERY_MS), end]);
    }
    await end;
    drainHere();
  },
};
