/**
 * `qpy-master`: the per-user daemon's entry point.
 *
 *   qpy-master               start detached (as `qpy` does): the daemon runs in
 *                            a new session with no inherited stdio; this
 *                            process waits until it is listening, then exits.
 *   qpy-master --foreground  run in this process, logging to stderr too.
 *
 * Exit status: 0 started (or stopped cleanly), 1 any error, with one line on
 * stderr (e.g. another master already runs for this QPY_DIR).
 */
import { fileURLToPath } from 'node:url';
import { QpyError } from '../errors.js';
import { userPaths } from '../config.js';
import { startMaster, type RunningMaster } from './master.js';
import { launchDetached, type StartReport } from '../launch-master.js';

export async function masterMain(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--foreground' && a !== '--detached-child');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('usage: qpy-master [--foreground]\nThe per-user qpy daemon; normally started by qpy itself. Its directory is $QPY_DIR (default ~/.qpy).\n');
    return;
  }
  if (unknown.length > 0) return fail(new QpyError('INVALID_ARGUMENT', `unknown option: ${unknown[0]}`, 'usage: qpy-master [--foreground]'));
  if (args.includes('--detached-child')) return runChild();
  if (args.includes('--foreground')) return runForeground();
  const report = await launchDetached(process.argv[1] ?? fileURLToPath(import.meta.url));
  if (report.type === 'ready') {
    process.stdout.write(`qpy-master started (pid ${report.pid}, port ${report.port}, directory ${userPaths().dir})\n`);
  } else {
    fail(new QpyError(report.code as never, report.message, report.hint));
  }
}

async function runChild(): Promise<void> {
  try {
    const m = await startMaster({ foreground: false });
    process.send?.({ type: 'ready', pid: m.pid, port: m.port } satisfies StartReport);
    process.disconnect?.();
    installSignals(m);
    await m.stopped;
    process.exit(0);
  } catch (err) {
    const e = err instanceof QpyError ? err : new QpyError('INTERNAL', (err as Error).message);
    process.send?.({ type: 'error', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } satisfies StartReport, () => process.exit(1));
  }
}

async function runForeground(): Promise<void> {
  try {
    const m = await startMaster({ foreground: true });
    installSignals(m);
    await m.stopped;
    process.exit(0);
  } catch (err) {
    fail(err);
  }
}

function installSignals(m: RunningMaster): void {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void m.stop());
  // A bug must not take the daemon down with the jobs' bookkeeping half done: it is logged.
  process.on('uncaughtException', (err) => m.log(`internal error: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => m.log(`internal error (promise): ${(err as Error)?.stack ?? err}`));
}

function fail(err: unknown): void {
  if (err instanceof QpyError) {
    process.stderr.write(`qpy-master: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  } else {
    process.stderr.write(`qpy-master: ${(err as Error)?.message ?? String(err)}\n`);
  }
  process.exitCode = 1;
}
