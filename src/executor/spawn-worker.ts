/**
 * The spawning thread of the local executor. `child_process.spawn` blocks
 * its thread for about a millisecond per child (fork, then waiting until the
 * child has exec'd); done here, on a worker thread, it costs the master's
 * event loop nothing, so dispatch and replies go on meanwhile. The children
 * stay children of the master's process: their exit is seen at once.
 *
 * Messages in:  { seq, file, args }           start a detached child
 * Messages out: { type: 'spawned', seq, pid } | { type: 'failed', seq, message }
 *               { type: 'exit', pid, code, signal }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { spawn } from 'node:child_process';

const env = (workerData as { env: NodeJS.ProcessEnv }).env;
const port = parentPort!;

port.on('message', (m: { seq: number; file: string; args: string[] }) => {
  let child;
  try {
    child = spawn(m.file, m.args, { detached: true, stdio: 'ignore', env });
  } catch (err) {
    port.postMessage({ type: 'failed', seq: m.seq, message: (err as Error).message });
    return;
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once('error', (err) => port.postMessage({ type: 'failed', seq: m.seq, message: err.message }));
    return;
  }
  child.on('error', () => undefined);
  child.once('exit', (code, signal) => port.postMessage({ type: 'exit', pid, code, signal }));
  port.postMessage({ type: 'spawned', seq: m.seq, pid });
});
