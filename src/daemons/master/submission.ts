/**
 * Accepting jobs: the I/O around the decisions of master/submit-request.ts.
 * The spec is checked there, the allocator is asked here whether any node
 * could ever run it, a script copy is made here when one is wanted, and
 * the jobs are added and committed (taken back if the commit fails) before
 * the reply.
 */
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSpec } from '../../protocol/job.js';
import type { CliToMaster, MasterToCli, Template } from '../../protocol/user-master.js';
import { QpyError } from '../../errors.js';
import {
  acceptGroup,
  acceptSubmit,
  checkedSpec,
  checkFeasible,
  stagePart,
  wantsCopy,
  type AttrCheck,
} from '../../master/submit-request.js';
import { parseAttrExpr } from '../../allocator/attributes.js';
import type { MasterContext } from './context.js';
import { carryOut } from './effects.js';
import { demandOf } from '../../master/dispatch-plan.js';

/** An attribute expression's check, by the allocator's own parser. */
export const checkAttrs: AttrCheck = (expr) => {
  const parsed = parseAttrExpr(expr);
  return parsed.ok ? null : new QpyError(parsed.code, parsed.message);
};

/** The spec of a submission, checked by the core and then by the allocator (could any node ever run it?). */
async function feasibleSpec(ctx: MasterContext, t: Template, command: string): Promise<JobSpec> {
  const facts = { stopping: ctx.stopping, configProblem: ctx.configProblem, denied: ctx.allocator.denied?.() ?? null, checkAttrs };
  const spec = checkedSpec(ctx, t, command, facts);
  return checkFeasible(await ctx.allocator.request({ type: 'feasible', user: ctx.user, demand: demandOf(spec) }), spec);
}

export async function onSubmit(ctx: MasterContext, req: Extract<CliToMaster, { type: 'submit' }>): Promise<MasterToCli> {
  const spec = await feasibleSpec(ctx, req, req.command);
  const copy = wantsCopy(ctx, req) && req.script ? copyScript(ctx.scriptsDir, ctx.state.nextId, req.script.path) : null;
  const d = acceptSubmit(ctx, req, spec, copy, ctx.now());
  await carryOut(ctx, ctx.dispatcher, d.effects);
  return d.reply;
}

export async function onSubmitMany(ctx: MasterContext, req: Extract<CliToMaster, { type: 'submitMany' }>): Promise<MasterToCli> {
  const part = stagePart(ctx, req, ctx.allocator.denied?.() ?? null, ctx.now());
  if (part.reply !== undefined) return part.reply;
  const spec = await feasibleSpec(ctx, req.template, part.commands[0]!);
  const d = acceptGroup(ctx, req, part.commands, spec, ctx.now());
  await carryOut(ctx, ctx.dispatcher, d.effects);
  return d.reply;
}

/** Copy a job's script (kept 0700, run in place of the original by its own interpreter, shebang and all). */
function copyScript(dir: string, jobId: number, source: string): string {
  const dest = join(dir, `job_script.${jobId}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    copyFileSync(source, dest);
    chmodSync(dest, 0o700);
  } catch (err) {
    throw new QpyError(
      'INVALID_ARGUMENT',
      `cannot copy the script ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'submit with -o to run the original',
    );
  }
  return dest;
}
