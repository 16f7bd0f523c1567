/**
 * The shell script that starts a batch of jobs (pure: text in, text out).
 *
 * Forking the master (a large Node process) costs ~2 ms per child on a
 * 2-core VM, more than everything else a job launch does. So the master
 * forks one small shell per batch, and that shell starts the batch's
 * wrappers, each in a process group of its own:
 *
 *   set -m                      (bash: every background job gets its own group)
 *   W='<wrapper>'
 *   /bin/sh -c "$W" qpy-job ARGS… 3>&1 >/dev/null 2>&1 </dev/null & echo "S 0 $!"
 *   …
 *   <reap the wrappers, reporting each one's wait status>
 *
 * Descriptor 3 of every wrapper is the batch shell's stdout, a pipe to the
 * master: `S <index> <pid>` lines come from the batch shell as it starts each
 * wrapper, `E <key> <status>` lines from the wrappers as they end (wrapper.ts),
 * `W <pid> <status>` lines from the batch shell as it reaps them (bash 5.1+,
 * `wait -n -p`: how a wrapper that could not write its status died, e.g.
 * 137 for SIGKILL), and the pipe's EOF means every wrapper of the batch has
 * exited. The batch shell stays until then: a non-reaping init (as in some
 * containers) would otherwise collect zombies.
 *
 * Without bash, a POSIX sh starts each wrapper through `setsid` (util-linux
 * or busybox), which, called from a non-leader, calls setsid(2) and execs in
 * place, so `$!` is still the wrapper's pid and process group.
 */
import { parseEndNotice, shellQuote, WRAPPER, WRAPPER_NAME } from './wrapper.js';

/** How the batch shell puts each wrapper in a group of its own. */
export type BatchMode = 'bash' | 'setsid';

/** Scripts are passed as one argv string: Linux caps one at 128 KiB (MAX_ARG_STRLEN). */
export const MAX_BATCH_BYTES = 96 * 1024;
/**
 * A batch shell starts its wrappers one after another, so batches are kept
 * small enough that several shells share the machine's cores.
 */
export const MAX_BATCH_JOBS = 16;

const PREFIX: Record<BatchMode, string> = { bash: 'set -m\n', setsid: '' };
const START: Record<BatchMode, string> = { bash: '/bin/sh', setsid: 'setsid /bin/sh' };

/** The batch header: job control and the wrapper text, defined once. */
export function batchHeader(mode: BatchMode): string {
  return `${PREFIX[mode]}W=${shellQuote(WRAPPER)}\n`;
}

/** One job's line: start wrapper number `index` of the batch with these positional arguments. */
export function batchLine(mode: BatchMode, index: number, wrapperArgs: readonly string[]): string {
  const args = wrapperArgs.map(shellQuote).join(' ');
  return `${START[mode]} -c "$W" ${WRAPPER_NAME} ${args} 3>&1 >/dev/null 2>&1 </dev/null & echo "S ${index} $!"\n`;
}

/**
 * The batch trailer: reap and report each wrapper as it ends (an older bash
 * refuses `-p`, leaving the loop at once), then reap whatever is left.
 */
const BASH_TRAILER = 'while _p=; wait -n -p _p 2>/dev/null; _s=$?; [ -n "$_p" ]; do echo "W $_p $_s"; done; exec >/dev/null 2>&1; wait\n';
const SH_TRAILER = 'exec >/dev/null 2>&1; wait\n';

export function batchTrailer(mode: BatchMode): string {
  return mode === 'bash' ? BASH_TRAILER : SH_TRAILER;
}

/** A line the batch's pipe carries, parsed; null for anything else. */
export type BatchEvent =
  | { type: 'started'; index: number; pid: number }
  | { type: 'ended'; key: string; status: number }
  | { type: 'reaped'; pid: number; status: number };

export function parseBatchLine(line: string): BatchEvent | null {
  let m = /^S (\d+) (\d+)$/.exec(line);
  if (m) return { type: 'started', index: Number(m[1]), pid: Number(m[2]) };
  m = /^W (\d+) (\d+)$/.exec(line);
  if (m) return { type: 'reaped', pid: Number(m[1]), status: Number(m[2]) };
  const notice = parseEndNotice(line);
  if (notice) return { type: 'ended', ...notice };
  return null;
}
