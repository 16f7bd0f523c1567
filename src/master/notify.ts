/**
 * Notifications (`sub --notify end|fail|all`), decided: which committed
 * status change of a job runs its notifiers (the notifyCommand and
 * notifyMail settings), and the mail sent. The daemon runs them
 * (src/daemons/master/notifier.ts), detached, once the change is durable.
 */
import type { Job, JobStatus, NotifyWhen } from '../protocol/job.js';
import type { JobEvent } from './event-log.js';

/**
 * Does reaching `to` notify a job submitted with `--notify when`? `end`: any
 * final status; `fail`: any final status but done; `all`: its start too.
 */
export function notifyWanted(when: NotifyWhen | undefined, to: JobStatus): boolean {
  if (when === undefined) return false;
  if (to === 'queue') return false;
  if (to === 'running') return when === 'all';
  return when !== 'fail' || to !== 'done';
}

/**
 * Is this write of a job a change its `--notify` asks to hear of? A write of
 * a final job is its end (a final job is written again only when queued
 * again); its start is the one write of a running job with no pid and no
 * kill asked for.
 */
export function notifiesOnWrite(job: Job): boolean {
  const s = job.state;
  if (s.type === 'running') return s.pid === null && !s.killRequested && job.spec.notify === 'all';
  return notifyWanted(job.spec.notify, s.type);
}

/** The job's line as `check` shows it by default: `ID (STATUS): COMMAND (on NODE; wd: DIR; OUTCOME)`. */
export function checkLine(job: Job, e: JobEvent): string {
  const ids = e.last !== undefined ? `${e.job}-${e.last}` : String(e.job);
  const how = [e.outcome, e.reason].filter((x) => x !== undefined).join('; ');
  return `${ids} (${e.to}): ${job.spec.command} (on ${e.node ?? 'no node'}; wd: ${job.spec.cwd}${how === '' ? '' : `; ${how}`})`;
}

/** The message handed to `sendmail -t`: headers, then the job's check line. Header values are kept to one line. */
export function mailMessage(address: string, job: Job, e: JobEvent): string {
  const ids = e.last !== undefined ? `jobs ${e.job}-${e.last}` : `job ${e.job}`;
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  return [
    `To: ${oneLine(address)}`,
    `Subject: qpy: ${ids} ${e.to}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    checkLine(job, e),
    '',
  ].join('\n');
}
