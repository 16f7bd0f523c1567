/**
 * Secret keys on disk: 32 random bytes, hex, in a file of mode 0600 inside a
 * directory of mode 0700. Created on first use; refused if readable by others.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { QpyError } from '../errors.js';
import { isPermissionError, permissionDenied } from '../accounts.js';

/**
 * Make `dir` (and missing parents) exist with mode 0700 for the leaf. Parents
 * are created one by one (Node's recursive mkdir can spin forever on special
 * file systems such as /proc); a failure is a QpyError naming the directory.
 */
export function ensurePrivateDir(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  try {
    for (const d of missing) mkdirSync(d, { mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(dir, 'this account may not create or change it');
    throw new QpyError(
      'STORE',
      `cannot create the directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check QPY_DIR',
    );
  }
}

/**
 * Read the key at `path`, creating it (0600) if absent. The key is written to
 * a private temporary file and linked into place, which fails if a key is
 * already there: two daemons starting at once agree on one key, and neither
 * can read a key file that is still empty.
 */
export function loadOrCreateKey(path: string): Buffer {
  ensurePrivateDir(dirname(path));
  if (!existsSync(path)) {
    const tmp = writeTemporaryKey(path, randomBytes(32));
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw keyWriteError(path, err);
    } finally {
      unlinkSync(tmp);
    }
  }
  return readKey(path);
}

/** `key` in a new 0600 file beside `path`, named for this process; its path. */
function writeTemporaryKey(path: string, key: Buffer): string {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    if (existsSync(tmp)) unlinkSync(tmp); // left by a crash, perhaps with another mode
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${key.toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not made */
    }
    throw keyWriteError(path, err);
  }
  return tmp;
}

function keyWriteError(path: string, err: unknown): QpyError {
  return new QpyError('STORE', `cannot write the key file ${path}: ${(err as Error).message}`);
}

/**
 * Put a new random key at `path` (0600), replacing any old one atomically:
 * a reader sees the old key or the new one, never a part. Returns the new key.
 */
export function replaceKey(path: string): Buffer {
  ensurePrivateDir(dirname(path));
  const key = randomBytes(32);
  const tmp = writeTemporaryKey(path, key);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw keyWriteError(path, err);
  }
  return key;
}

/** Read an existing key; a missing, malformed or group/world-readable key is a QpyError. */
export function readKey(path: string): Buffer {
  let text: string;
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) {
      throw new QpyError(
        'UNAUTHENTICATED',
        `key file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)})`,
        `run: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof QpyError) throw err;
    throw new QpyError('UNAUTHENTICATED', `cannot read key file ${path}: ${(err as Error).message}`);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new QpyError('UNAUTHENTICATED', `key file ${path} is malformed`);
  return Buffer.from(text, 'hex');
}
