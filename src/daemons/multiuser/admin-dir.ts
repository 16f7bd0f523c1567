/**
 * The admin directory as qpy-multiuser prepares it at start: owned by the
 * account running the daemon, closed to others except for passing through
 * to the daemon's socket (0711), keys private, and everything the daemon
 * creates the admin's alone (umask 077).
 */
import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QpyError } from '../../errors.js';
import type { MultiuserPaths } from '../../config.js';
import { checkOwnDirectory, isPermissionError, permissionDenied } from '../../accounts.js';
import { ensurePrivateDir, loadOrCreateKey } from '../../transport/key.js';

/** Refuse a directory or file that others can read or write (a key in it would be theirs); `forbidden`: the bits not allowed. */
function checkPrivate(path: string, what: string, forbidden = 0o077): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(path, 'qpy-multiuser must run as the account that owns it');
    return; // created below, private
  }
  if ((mode & forbidden) !== 0) {
    throw new QpyError(
      'UNAUTHENTICATED',
      `${what} ${path} is open to other users (mode ${mode.toString(8)})`,
      `run: chmod ${what === 'directory' ? (forbidden === 0o077 ? 700 : 711) : 600} ${path}`,
    );
  }
}

/**
 * The admin directory is 0711: other accounts may pass through it to the
 * daemon's socket, but not list it. So every file in it is made the admin's
 * alone (the daemon's own are created so under its umask; the admin's files
 * may have been written 0644).
 */
function openToSocketUsers(dir: string): void {
  chmodSync(dir, 0o711);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (st.isFile() && (st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Check and prepare the admin directory; throws a QpyError naming what is wrong and the fix. */
export function prepareAdminDir(paths: MultiuserPaths): void {
  process.umask(0o077); // everything the daemon creates is the admin's alone
  checkOwnDirectory(paths.dir, 'qpy-multiuser');
  checkPrivate(paths.dir, 'directory', 0o066);
  checkPrivate(paths.keys, 'directory');
  ensurePrivateDir(paths.dir);
  ensurePrivateDir(paths.keys);
  checkPrivate(paths.adminKey, 'key file');
  loadOrCreateKey(paths.adminKey);
  openToSocketUsers(paths.dir);
}
