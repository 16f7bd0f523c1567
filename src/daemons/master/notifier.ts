/**
 * Running a job's notifiers (`sub --notify`, decided in src/master/notify.ts)
 * once its change is committed: the notifyCommand setting through /bin/sh,
 * and a mail to notifyMail through the local `sendmail -t`. Each runs
 * detached (a process group of its own) with a time limit, a few at a time
 * (a queue of at most MAX_PENDING waits; beyond it they are dropped and
 * counted in the log), and ends with one line in master.log. Nothing a
 * notifier does reaches the job or the master: its failure, its hang, its
 * output are only logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Job } from '../../protocol/job.js';
import type { Settings } from '../../protocol/settings.js';
import type { JobEvent } from '../../master/event-log.js';
import { mailMessage } from '../../master/notify.js';
import { TAG_VAR } from '../../executor/wrapper.js';
import type { Log } from '../shared/log.js';
import { memText } from './launch-spec.js';

/** How many notifiers run at once, and how many may wait. */
const MAX_RUNNING = 4;
const MAX_PENDING = 1000;

export interface Notifier {
  /** Run the notifiers for this committed change of `job` (its spec says `--notify`). */
  notify(job: Job, e: JobEvent): void;
}

/** The local sendmail: in PATH, else /usr/sbin or /usr/lib; null if none is executable. */
export function findSendmail(path = process.env['PATH'] ?? ''): string | null {
  for (const dir of [...path.split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/usr/lib']) {
    const file = join(dir, 'sendmail');
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** The variables a notifier gets: the job's QPY_* (as it ran, or would have), its status and how it ended. */
export function notifyEnv(job: Job, e: JobEvent): Record<string, string> {
  const { spec } = job;
  return {
    QPY_JOB_ID: String(e.job),
    ...(e.last !== undefined ? { QPY_LAST_JOB_ID: String(e.last) } : {}),
    QPY_STATUS: e.to,
    ...(e.node !== undefined ? { QPY_NODE: e.node } : {}),
    QPY_N_CORES: String(spec.cores),
    QPY_MEM: memText(spec.memGB),
    QPY_ATTEMPT: String(e.attempt ?? (job.attempts?.length ?? 0) + 1),
    ...(spec.group ? { QPY_ARRAY_ID: String(spec.group.id), QPY_ARRAY_INDEX: String(spec.group.index) } : {}),
    ...(e.outcome !== undefined ? { QPY_OUTCOME: e.outcome } : {}),
    ...(e.exit !== undefined ? { QPY_EXIT_CODE: String(e.exit) } : {}),
  };
}

interface Task {
  what: string;
  file: string;
  args: string[];
  input: string | null;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function createNotifier(settings: () => Settings, log: Log, timeoutMs: () => number): Notifier {
  const pending: Task[] = [];
  let running = 0;
  let dropped = 0;

  const next = () => {
    while (running < MAX_RUNNING && pending.length > 0) start(pending.shift()!);
    if (dropped > 0 && pending.length === 0) {
      log(`notify: ${dropped} notifications dropped (more than ${MAX_PENDING} waited)`);
      dropped = 0;
    }
  };
  const start = (t: Task) => {
    running++;
    let stderr = '';
    let timedOut = false;
    let done = false;
    const finish = (how: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      running--;
      const said = stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
      log(`notify ${t.what}: ${timedOut ? `no end after ${timeoutMs()} ms: killed` : how}${said === '' ? '' : `; stderr: ${said}`}`);
      next();
    };
    let child: ChildProcess;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs());
    try {
      child = spawn(t.file, t.args, {
        detached: true,
        stdio: [t.input === null ? 'ignore' : 'pipe', 'ignore', 'pipe'],
        env: t.env,
        cwd: t.cwd,
      });
    } catch (err) {
      finish(`cannot run: ${(err as Error).message}`);
      return;
    }
    child.on('error', (err) => finish(`cannot run: ${err.message}`));
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.stdin?.on('error', () => undefined); // a sendmail that ends without reading
    if (t.input !== null) child.stdin?.end(t.input);
    child.on('close', (code, signal) => finish(code !== null ? `exit ${code}` : `signal ${signal}`));
  };
  const queue = (t: Task) => {
    if (pending.length >= MAX_PENDING) dropped++;
    else pending.push(t);
    next();
  };

  return {
    notify(job, e) {
      const s = settings();
      const what = `job ${e.last !== undefined ? `${e.job}-${e.last}` : e.job} ${e.to}`;
      if (s.notifyCommand === null && s.notifyMail === null) {
        log(`notify ${what}: neither notifyCommand nor notifyMail is set: nothing sent`);
        return;
      }
      const env: NodeJS.ProcessEnv = { ...process.env, ...notifyEnv(job, e) };
      delete env[TAG_VAR]; // a notifier is no part of any job
      const cwd = isDir(job.spec.cwd) ? job.spec.cwd : homedir();
      if (s.notifyCommand !== null)
        queue({ what: `${what}, notifyCommand`, file: '/bin/sh', args: ['-c', s.notifyCommand], input: null, env, cwd });
      if (s.notifyMail !== null) {
        const sendmail = findSendmail();
        if (sendmail === null) log(`notify ${what}: no sendmail found (in PATH, /usr/sbin, /usr/lib): no mail to ${s.notifyMail}`);
        else
          queue({
            what: `${what}, mail to ${s.notifyMail}`,
            file: sendmail,
            args: ['-t'],
            input: mailMessage(s.notifyMail, job, e),
            env,
            cwd,
          });
      }
    },
  };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
