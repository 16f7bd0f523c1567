/**
 * The user's page's routes, for a request that has its session (web.ts
 * checks that first): the jobs page with `check`'s filters (and the Slurm
 * pools, from the allocator's status: web-pools.ts), a job's page and
 * its output (the `output` request `qpy follow` sends, through the same
 * handler), and the buttons' POST (with the session's CSRF token, as the
 * request the CLI's command sends). Unknown paths are 404, bad filters 400.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { QpyError } from '../../errors.js';
import { OUTPUT_CHUNK, type CliToMaster, type MasterToCli } from '../../protocol/user-master.js';
import { CHECK_LIMIT } from '../../protocol/user-master.js';
import { outputPath } from '../../protocol/output-names.js';
import { candidates } from '../../master/check-request.js';
import { planCheck } from '../../master/check-plan.js';
import { readLocalRange } from '../../file-range.js';
import { readBody, send, sendError, sendHtml, sendJson } from '../../web/http.js';
import { sameSecret, type Session } from '../../web/user-auth.js';
import { parseFilters } from '../../web/user-query.js';
import { jobsPage, ROWS_SHOWN } from '../../web/user-page.js';
import { jobPage } from '../../web/user-job-page.js';
import { actionAnswer, actionRequest } from '../../web/user-actions.js';
import type { MasterContext } from './context.js';
import { allocatorPools } from './web-pools.js';

type Handle = (req: CliToMaster) => Promise<MasterToCli>;

export async function routeUser(
  ctx: MasterContext,
  handle: Handle,
  session: Session,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = url.pathname;
  const job = /^\/job\/([0-9]{1,15})(\/output)?$/.exec(path);
  if (path !== '/' && path !== '/action' && job === null) return sendError(res, 404, `Not found: ${path}`);
  const method = path === '/action' ? 'POST' : 'GET';
  if (req.method !== method) return sendError(res, 405, `Use ${method}.`);
  if (path === '/') return jobsList(ctx, session, url, res);
  if (path === '/action') return action(handle, session, req, res);
  const id = Number(job![1]);
  return job![2] === undefined ? jobDetail(ctx, session, id, res) : output(ctx, handle, id, url, res);
}

/** The jobs page: one pass over the in-memory jobs, as `check` makes it, and the allocator's pools. */
async function jobsList(ctx: MasterContext, session: Session, url: URL, res: ServerResponse): Promise<void> {
  const f = parseFilters(url.searchParams);
  if (!f.ok) {
    sendError(res, 400, `Bad filter: ${f.message}.`);
    return;
  }
  const pools = (await allocatorPools(ctx)) ?? [];
  const { state } = ctx;
  const plan = planCheck(candidates(state, f.selector), f.selector, state.queue, 'jobs', CHECK_LIMIT, state.nextId);
  const jobs = plan.ids.slice(0, ROWS_SHOWN).flatMap((i) => state.jobs.get(i) ?? []);
  sendHtml(
    res,
    jobsPage({
      user: ctx.user,
      jobs,
      matched: plan.matched,
      selector: f.selector,
      paused: state.paused,
      pools,
      csrf: session.csrf,
      now: ctx.now(),
    }),
  );
}

function jobDetail(ctx: MasterContext, session: Session, id: number, res: ServerResponse): void {
  const job = ctx.state.jobs.get(id);
  if (job === undefined) {
    sendError(res, 404, `No job ${id}.`);
    return;
  }
  const notes = ctx.notes.get(id) ?? null;
  sendHtml(res, jobPage({ user: ctx.user, job, outPath: outputPath(id, job.spec), notes, csrf: session.csrf, now: ctx.now() }));
}

/** Part of a job's output from `offset`: read on its node while it runs (the `output` request), else here. */
async function output(ctx: MasterContext, handle: Handle, id: number, url: URL, res: ServerResponse): Promise<void> {
  const word = url.searchParams.get('offset') ?? '0';
  if (!/^[0-9]{1,15}$/.test(word) || [...url.searchParams.keys()].some((k) => k !== 'offset'))
    return sendError(res, 400, 'Bad parameter: give only offset, a byte offset (0 or more).');
  const job = ctx.state.jobs.get(id);
  if (job === undefined) return sendError(res, 404, `No job ${id}.`);
  const offset = Number(word);
  const r = await handle({ type: 'output', id: 0, jobId: id, offset });
  if (r.type !== 'output') return sendError(res, 404, `No job ${id}.`);
  const data = r.read ? Buffer.from(r.data, 'base64') : readLocalRange(outputPath(id, job.spec), offset, OUTPUT_CHUNK);
  sendJson(res, { status: r.status, data: data.toString('base64'), more: data.length === OUTPUT_CHUNK });
}

/** A button: the CSRF token must be the session's; then the CLI's request, through the master's handler. */
async function action(handle: Handle, session: Session, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: string;
  try {
    body = await readBody(req);
  } catch {
    return sendError(res, 413, 'The request is too large.');
  }
  const form = new URLSearchParams(body);
  if (!sameSecret(form.get('csrf') ?? '', session.csrf)) return sendError(res, 403, 'Forbidden: no valid CSRF token; reload the page.');
  const a = actionRequest(form);
  if (!a.ok) return sendError(res, 400, `Bad action: ${a.message}.`);
  const jobId = Number(form.get('id'));
  let reply: MasterToCli;
  try {
    reply = await handle(a.request);
  } catch (err) {
    if (!(err instanceof QpyError)) throw err;
    return send(res, 409, 'text/plain; charset=utf-8', `${err.message}\n`);
  }
  send(res, reply.type === 'error' ? 409 : 200, 'text/plain; charset=utf-8', `${actionAnswer(reply, jobId)}\n`);
}
