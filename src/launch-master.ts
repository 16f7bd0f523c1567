/**
 * Starting a detached `qpy-master`, shared by `qpy` (auto-start, restart) and
 * the `qpy-master` launcher: the daemon runs in a new session with stdio on
 * /dev/null, so nothing that started it is held open; it reports `ready` or
 * its start-up error once over an IPC channel, which it then closes.
 */

/** What the daemon reports to its launcher. */
export type StartReport = { type: 'ready'; pid: number; port: number } | { type: 'error'; code: string; message: string; hint?: string };

/** Spawn `node <entry> --detached-child` detached and wait for its report. */
export async function launchDetached(entry: string, env: NodeJS.ProcessEnv = restoredEnv()): Promise<StartReport> {
  // Loaded only when a master must be started: most qpy commands never need it.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, '--detached-child'], {
      detached: true,
      env,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let settled = false;
    const settle = (r: StartReport) => {
      if (settled) return;
      settled = true;
      if (child.connected) child.disconnect();
      child.unref();
      resolve(r);
    };
    child.on('message', (m) => settle(m as StartReport));
    child.on('error', (err) => settle({ type: 'error', code: 'MASTER_UNREACHABLE', message: `cannot start qpy-master: ${err.message}` }));
    child.on('exit', (code) =>
      settle({ type: 'error', code: 'MASTER_UNREACHABLE', message: `qpy-master exited during start-up (status ${code})` }),
    );
  });
}

/**
 * The environment for the daemon: bin/qpy sets NODE_EXTRA_CA_CERTS aside to
 * start faster; the master (and the jobs it starts) get it back unchanged.
 */
export function restoredEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const saved = env['QPY_SAVED_NODE_EXTRA_CA_CERTS'];
  if (saved === undefined) return env;
  const out: NodeJS.ProcessEnv = { ...env, NODE_EXTRA_CA_CERTS: saved };
  delete out['QPY_SAVED_NODE_EXTRA_CA_CERTS'];
  return out;
}
