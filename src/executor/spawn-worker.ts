/**
 * The spawning thread of the local launcher (launcher.ts).
 * `child_process.spawn` blocks its thread for about 2 ms per child on a
 * 2-core VM (fork of a large process, then waiting for the exec); done here,
 * it costs the master's event loop nothing. Each spawn is one batch shell
 * (launch-batch.ts), detached into its own session; its stdout (the pipe the
 * wrappers notify on) is read here and forwarded line by line.
 *
 * Messages in:  { batch, file, args }          start one batch shell
 * Messages out: { type: 'lines', batch, lines } complete lines from its pipe
 *               { type: 'closed', batch }       the pipe's EOF: every writer exited
 *               { type: 'failed', batch, message } the shell could not be started
 */
import { parentPort, workerData } from 'node:worker_threads';
import { spawn } from 'node:child_process';

const env = (workerData as { env: NodeJS.ProcessEnv }).env;
const port = parentPort!;

port.on('message', (m: { batch: number; file: string; args: string[] }) => {
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(m.file, m.args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env });
  } catch (err) {
    port.postMessage({ type: 'failed', batch: m.batch, message: (err as Error).message });
    return;
  }
  child.on('error', (err) => port.postMessage({ type: 'failed', batch: m.batch, message: err.message }));
  const out = child.stdout!;
  out.setEncoding('utf8');
  let rest = '';
  out.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) port.postMessage({ type: 'lines', batch: m.batch, lines });
  });
  out.on('error', () => undefined);
  out.on('close', () => port.postMessage({ type: 'closed', batch: m.batch }));
});
