/**
 * The user's page's buttons as the requests the CLI sends: kill is
 * `qpy kill ID`, hold/release are `qpy hold|release ID`, retry is
 * `qpy retry ID`. The master answers them through the same handlers and
 * checks as the CLI's; here only the request is built from the POSTed form,
 * and the reply said in one sentence. Pure.
 */
import type { CliToMaster, MasterToCli } from '../protocol/user-master.js';

export const ACTIONS = ['kill', 'hold', 'release', 'retry'] as const;
export type Action = (typeof ACTIONS)[number];

/** The request a button stands for, or a sentence saying what is wrong with the form. */
export function actionRequest(form: URLSearchParams): { ok: true; request: CliToMaster } | { ok: false; message: string } {
  const action = form.get('action') ?? '';
  const word = form.get('id') ?? '';
  if (!/^[0-9]{1,15}$/.test(word) || Number(word) < 1) return { ok: false, message: `"${word}" is not a job ID` };
  const id = Number(word);
  const ranges: [number, number][] = [[id, id]];
  switch (action) {
    case 'kill':
      return { ok: true, request: { type: 'kill', id: 0, selector: { statuses: [], dirs: [], ranges } } };
    case 'hold':
    case 'release':
      return { ok: true, request: { type: 'hold', id: 0, ranges, held: action === 'hold' } };
    case 'retry':
      return { ok: true, request: { type: 'requeue', id: 0, ranges, failed: false, any: false } };
    default:
      return { ok: false, message: `unknown action "${action}" (use one of: ${ACTIONS.join(' ')})` };
  }
}

/** The master's reply to a button, in one sentence. */
export function actionAnswer(reply: MasterToCli, jobId: number): string {
  switch (reply.type) {
    case 'killed':
      if (reply.killing.length > 0) return `Killing job ${jobId}.`;
      if (reply.unqueued > 0) return `Job ${jobId} was removed from the queue.`;
      return `Job ${jobId} is neither queued nor running: nothing to kill.`;
    case 'text':
      return reply.text;
    case 'error':
      return reply.message;
    default:
      return `Job ${jobId}: done.`;
  }
}
