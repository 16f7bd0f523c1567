/**
 * Carrying out the effects the pure core decided (src/master/effects.ts),
 * in order: rows go to the committer, a `commit` waits until they are
 * durable (on failure its undo is carried out and the error thrown, so
 * nothing after it happens), launches, kills and releases go to the
 * dispatcher. Nothing is decided here.
 */
import { rmSync } from 'node:fs';
import type { Effect } from '../../master/effects.js';
import { queuePos, queuePosOf } from '../../master/state.js';
import { takeBack } from '../../master/submit-request.js';
import type { Dispatcher, Runtime } from './context.js';

/** Carry out `effects`; resolves once every commit it waits for is durable and every launch settled. */
export async function carryOut(rt: Runtime, d: Dispatcher, effects: readonly Effect[]): Promise<void> {
  const launches: Promise<void>[] = [];
  for (const e of effects) {
    switch (e.type) {
      case 'put':
        rt.committer.putJob(e.job, e.pos);
        break;
      case 'putNew':
        putNew(rt, e.first, e.last);
        break;
      case 'unqueueRange':
        rt.committer.unqueueRange(e.first, e.last, e.at);
        break;
      case 'removeRanges':
        rt.committer.removeRanges(e.runs);
        break;
      case 'setMeta':
        rt.committer.setMeta(e.key, e.value);
        break;
      case 'deleteMeta':
        rt.committer.deleteMeta(e.key);
        break;
      case 'commit':
        try {
          await rt.committer.flush();
        } catch (err) {
          if (e.undo) await carryOut(rt, d, e.undo);
          throw err;
        }
        break;
      case 'commitSoon': {
        const afterwards = e.afterwards;
        rt.committer.flushSoon().then(
          () => carryOut(rt, d, afterwards),
          () => undefined,
        );
        break;
      }
      case 'launch':
        launches.push(d.launch(e.job));
        break;
      case 'kill':
        d.kill(e.job);
        break;
      case 'release':
        void d.release(e.jobId);
        break;
      case 'releaseAtNextPass':
        d.releaseAtNextPass(e.jobId, e.ended);
        break;
      case 'forget':
        rt.executor.forget(e.jobId);
        break;
      case 'adopt':
        d.adopt(e.jobs);
        break;
      case 'dispatch':
        d.poke();
        break;
      case 'takeBack':
        takeBack(rt.state, e.first, e.last);
        break;
      case 'removeFile':
        rmSync(e.path, { force: true });
        break;
      case 'log':
        rt.log(e.text);
        break;
      case 'stop':
        setImmediate(() => rt.finish());
        break;
    }
  }
  await Promise.all(launches);
}

/** Write new jobs `first`…`last` as they are when the commit runs: members still compact are written as compact rows (see job-store.ts). */
function putNew(rt: Runtime, first: number, last: number): void {
  const { state } = rt;
  const group = state.jobs.groupOf(first);
  const template = group === first ? state.jobs.templateOf(group) : undefined;
  if (template !== undefined) rt.committer.putGroup(first, template);
  rt.committer.putRange(first, last, (id) => {
    const compact = template !== undefined ? state.jobs.compactRow(id) : null;
    if (compact !== null)
      return compact.endedAt === null
        ? { compact, status: 'queue', pos: queuePosOf(id, template!.spec.priority) }
        : { compact, status: 'undone', pos: null };
    const job = state.jobs.get(id);
    return job === undefined ? undefined : { job, pos: job.state.type === 'queue' ? queuePos(job) : null };
  });
}
