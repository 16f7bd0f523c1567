/**
 * The master's answers to CLI requests: each request is decided by a pure
 * handler in src/master (see manual/architecture.md for which), and this
 * module only does the I/O around it (the allocator's answers a decision
 * needs, a wait, output read on a node) and carries out the effects before
 * the reply goes out. Each change is committed before it is acknowledged.
 */
import { OUTPUT_CHUNK, type CliToMaster, type MasterToCli } from '../../protocol/user-master.js';
import { outputPath } from '../../protocol/output-names.js';
import type { QpyError } from '../../errors.js';
import type { Decision } from '../../master/effects.js';
import { onCheck, onCheckMore } from '../../master/check-request.js';
import { onConfig, onFinish, onJobIds, onNotes, outputPlan, statusReply, waitedReply, waitTargets } from '../../master/info-requests.js';
import { onClean, onHold, onJump, onKill, onPause, onRequeue } from '../../master/queue-requests.js';
import { explainWait, type WhyFacts } from '../../master/why.js';
import { explainNodes } from '../../allocator/feasible.js';
import { demandOf } from '../../master/dispatch-plan.js';
import type { MasterContext } from './context.js';
import { carryOut } from './effects.js';
import { historyReply } from '../../master/history.js';
import { HISTORY_PAGE } from '../../protocol/history.js';

/** Rows one history page reads: as many as it may list. */
const HISTORY_SCAN = HISTORY_PAGE;
import { checkAttrs, onSubmit, onSubmitMany } from './submission.js';
import { findSendmail } from './notifier.js';

/** Carry out a decision's effects; then its reply. */
async function decided(ctx: MasterContext, d: Decision<MasterToCli>): Promise<MasterToCli> {
  await carryOut(ctx, ctx.dispatcher, d.effects);
  return d.reply;
}

const deniedNow = (ctx: MasterContext): QpyError | null => ctx.allocator.denied?.() ?? null;

export async function handleCli(ctx: MasterContext, req: CliToMaster): Promise<MasterToCli> {
  switch (req.type) {
    case 'submit':
      return onSubmit(ctx, req);
    case 'submitMany':
      return onSubmitMany(ctx, req);
    case 'check':
      return onCheck(ctx, req, deniedNow(ctx), ctx.now());
    case 'checkMore':
      return onCheckMore(ctx, req, ctx.now());
    case 'config':
      return decided(
        ctx,
        onConfig(ctx, req, checkAttrs, () => findSendmail()),
      );
    case 'jobIds':
      return onJobIds(ctx, req);
    case 'notes':
      return decided(ctx, onNotes(ctx, req));
    case 'kill':
      return decided(ctx, onKill(ctx, req, ctx.now()));
    case 'pause':
      return decided(ctx, onPause(ctx, req));
    case 'jump':
      return decided(ctx, onJump(ctx, req));
    case 'hold':
      return decided(ctx, onHold(ctx, req));
    case 'wait': {
      const { ids, pending } = waitTargets(ctx, req);
      await ctx.waits.until(pending);
      return waitedReply(ctx, req.id, ids);
    }
    case 'output': {
      const { reply, read } = outputPlan(ctx, req);
      if (read === null) return reply;
      try {
        const data = await ctx.executor.readOutput(read.id, outputPath(read.id, read.spec), req.offset, OUTPUT_CHUNK);
        return { ...reply, read: true, data: data.toString('base64') };
      } catch {
        return reply; // its node does not answer now: the shared copy is read instead
      }
    }
    case 'requeue':
      return decided(ctx, onRequeue(ctx, req, ctx.now(), ctx.leftoverOn));
    case 'why':
      return { type: 'text', id: req.id, text: await why(ctx, req.jobId) };
    case 'clean':
      return decided(ctx, onClean(ctx, req));
    case 'status':
      return statusReply(ctx, req.id, await ctx.allocator.request({ type: 'status', user: ctx.user }), ctx.configProblem, (node) =>
        ctx.executor.limitsOn(node),
      );
    case 'finish':
      return decided(ctx, onFinish(ctx, req, process.pid));
    case 'history':
      return history(ctx, req);
    case 'web':
      return ctx.web.open(req.id);
  }
}

/** `qpy history`: a page of rows read from the store (I/O), the page decided by master/history.ts. */
function history(ctx: MasterContext, req: Extract<CliToMaster, { type: 'history' }>): MasterToCli {
  const q = req.query;
  const rows = ctx.history.read({ since: q.since, until: q.until, after: q.after, limit: HISTORY_SCAN });
  return historyReply(req.id, rows, q.selector, ctx.settings, HISTORY_SCAN);
}

/** `qpy why`: the core's explanation, with the allocator's answers it asks for. */
async function why(ctx: MasterContext, jobId: number): Promise<string> {
  const facts: WhyFacts = { denied: deniedNow(ctx), reachable: ctx.allocator.reachable?.() !== false };
  for (;;) {
    const step = explainWait(ctx, jobId, facts);
    if ('text' in step) return step.text;
    const job = ctx.state.jobs.get(jobId)!;
    const demand = demandOf(job.spec);
    if (step.ask === 'feasible') facts.feasible = await ctx.allocator.request({ type: 'feasible', user: ctx.user, demand });
    else {
      const reply = await ctx.allocator.request({ type: 'status', user: ctx.user });
      facts.nodes = reply.type === 'status' ? explainNodes(reply.status, ctx.user, demand) : [];
    }
  }
}
