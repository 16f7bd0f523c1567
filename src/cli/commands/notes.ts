/**
 * `qpy notes [ID [TEXT…]]` (reference §4.9, §5.11): which jobs have notes,
 * one job's notes, or add a note to a job. Each note is appended as
 * `----- Note added at <time>:\n<text>\n\n`; `%K` in checkFMT shows them, and
 * `clean` removes them with their job. Unlike the original, the job must
 * exist.
 */
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';
import { MAX_NOTE_LENGTH } from '../../protocol/user-master.js';
import { formatTime } from '../format-check.js';

export const notes: CommandDef = {
  name: 'notes',
  summary: 'List the jobs that have notes, show a job’s notes, or add one: notes [ID [TEXT...]]',
  configure(cmd) {
    cmd.argument('[id]', 'a job ID').argument('[text...]', 'the note to add (words joined with spaces)');
  },
  complete: (args) => (args.length === 0 ? { kind: 'words', words: [], from: 'all' } : { kind: 'none' }),
  async run(ctx, args) {
    const [idWord, ...words] = args;
    let jobId: number | null = null;
    if (idWord !== undefined) {
      if (!/^[0-9]{1,15}$/.test(idWord) || Number(idWord) < 1) throw invalid(`"${idWord}" is not a job ID`);
      jobId = Number(idWord);
    }
    const note = words.length === 0 ? null : words.join(' ');
    const entry = note === null ? null : `----- Note added at ${formatTime(Date.now())}:\n${note}\n\n`;
    if (entry !== null && entry.length > MAX_NOTE_LENGTH) throw invalid(`a note may have at most ${MAX_NOTE_LENGTH} characters`);
    const reply = await (await ctx.master()).request({ type: 'notes', jobId, text: entry });
    if (reply.type !== 'notes') return;
    if (jobId === null)
      ctx.out(
        reply.ids.length === 0
          ? 'You have no notes.\n'
          : `You have notes for the following jobs:\n${reply.ids.map((i) => `${i} `).join('')}\n`,
      );
    else if (entry !== null) ctx.out('Note stored.\n');
    else ctx.out(reply.text === null ? `No notes for ${jobId}\n` : `${reply.text}\n`);
  },
};
