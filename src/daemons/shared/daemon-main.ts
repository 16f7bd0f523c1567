/**
 * The entry point shared by the two daemons (`qpy-master`, `qpy-multiuser`):
 *
 *   <daemon>               start detached: the daemon runs in a new session with
 *                          no inherited stdio; this process waits until it is
 *                          listening (or failed), reports, and exits.
 *   <daemon> --foreground  run in this process, logging to stderr too.
 *
 * Exit status: 0 started (or stopped cleanly), 1 any error, with one line on
 * stderr (for example another daemon already runs for the same directory).
 */
import { QpyError } from '../../errors.js';
import { launchDetached, type StartReport } from '../../launch-master.js';
import type { Log } from './log.js';

export interface RunningDaemon {
  readonly pid: number;
  readonly port: number;
  readonly log: Log;
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonSpec {
  name: string;
  /** The --help text. */
  help: string;
  /** The directory it serves, for the start message. */
  dir(): string;
  /** The script to run detached (the caller's own entry point). */
  entry: string;
  start(foreground: boolean): Promise<RunningDaemon>;
}

export async function daemonMain(argv: string[], spec: DaemonSpec): Promise<void> {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--foreground' && a !== '--detached-child');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(spec.help);
    return;
  }
  if (unknown.length > 0)
    return fail(spec.name, new QpyError('INVALID_ARGUMENT', `unknown option: ${unknown[0]}`, `usage: ${spec.name} [--foreground]`));
  if (args.includes('--detached-child')) return runChild(spec);
  if (args.includes('--foreground')) return runForeground(spec);
  const report = await launchDetached(spec.entry);
  if (report.type === 'ready')
    process.stdout.write(`${spec.name} started (pid ${report.pid}, port ${report.port}, directory ${spec.dir()})\n`);
  else fail(spec.name, new QpyError(report.code as never, report.message, report.hint));
}

async function runChild(spec: DaemonSpec): Promise<void> {
  try {
    const d = await spec.start(false);
    process.send?.({ type: 'ready', pid: d.pid, port: d.port } satisfies StartReport);
    process.disconnect?.();
    installSignals(d);
    await d.stopped;
    process.exit(0);
  } catch (err) {
    const e = err instanceof QpyError ? err : new QpyError('INTERNAL', (err as Error).message);
    process.send?.({ type: 'error', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } satisfies StartReport, () =>
      process.exit(1),
    );
  }
}

async function runForeground(spec: DaemonSpec): Promise<void> {
  try {
    const d = await spec.start(true);
    installSignals(d);
    await d.stopped;
    process.exit(0);
  } catch (err) {
    fail(spec.name, err);
  }
}

function installSignals(d: RunningDaemon): void {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void d.stop());
  // A bug must not take the daemon down with its bookkeeping half done: it is logged.
  process.on('uncaughtException', (err) => d.log(`internal error: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => d.log(`internal error (promise): ${(err as Error)?.stack ?? err}`));
}

function fail(name: string, err: unknown): void {
  if (err instanceof QpyError) process.stderr.write(`${name}: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  else process.stderr.write(`${name}: ${(err as Error)?.message ?? String(err)}\n`);
  process.exitCode = 1;
}
