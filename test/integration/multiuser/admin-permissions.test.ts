/**
 * An account that may not use the admin directory is told so, naming the
 * path: qpy-admin says `permission denied` (not "qpy-multiuser is not
 * running"), and qpy-multiuser refuses a directory that is not its own. Run
 * as root, with the `nobody` account as the stranger; skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { QPY_ADMIN, QPY_MULTIUSER, testMultiuser } from '../../helpers/multiuser.js';
import { run } from '../../helpers/qpy.js';

const NOBODY = 65534;
const skip =
  process.getuid?.() !== 0 ? 'needs root (to run as nobody)' : spawnSync('setpriv', ['--version']).status !== 0 ? 'needs setpriv' : false;

/** Run `file ARGS` as nobody. */
function asNobody(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', file, ...args], cwd, { ...env, HOME: '/' });
}

test('qpy-admin run by another account: permission denied, naming the admin directory; qpy-multiuser likewise', { skip }, async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=2 memory=8\n', env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  chmodSync(mu.dir.path, 0o755); // the way to the admin directory is open; the directory itself (0711) may be passed, not read
  for (const args of [['status'], ['start'], ['users', 'add', 'bob']]) {
    const r = await asNobody(QPY_ADMIN, args, '/', mu.env);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(
      r.stderr,
      new RegExp(`^qpy-admin: permission denied: ${mu.paths.dir}(/[a-z._]+)? \\(qpy-admin must run as the account that owns it\\)\\n$`),
      args.join(' '),
    );
  }
  const d = await asNobody(QPY_MULTIUSER, [], '/', mu.env);
  assert.equal(d.code, 1);
  assert.match(
    d.stderr,
    new RegExp(
      `^qpy-multiuser: permission denied: ${mu.paths.dir} belongs to uid 0 \\(root\\), not to this account \\(uid ${NOBODY} \\(nobody\\)\\)`,
    ),
  );
});
