/**
 * Unix accounts, as errors and logs name them: uid to user name (from
 * /etc/passwd), and the path a permission error is about (which directory on
 * the way to a file this account may not enter; who owns a directory that is
 * not this account's). An EACCES or EPERM is then said as `permission denied:
 * PATH`, not as a missing file or a daemon that is not running.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { QpyError } from './errors.js';

/** uid → name from the text of /etc/passwd (the first name of a uid wins). */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    const uid = Number(f[2]);
    if (f.length >= 3 && f[0] && f[2] !== '' && Number.isSafeInteger(uid) && !names.has(uid)) names.set(uid, f[0]);
  }
  return names;
}

/** Is `err` a permission error (EACCES, EPERM)? */
export function isPermissionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * The first path on the way to `path` (a directory this account may not
 * enter, or `path` itself if it may not be read), or `path` when none can be
 * told apart (say, running as root).
 */
export function deniedPath(path: string): string {
  const full = resolve(path);
  const chain: string[] = [];
  for (let d = full; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const [i, p] of chain.entries()) {
    try {
      accessSync(p, i === chain.length - 1 ? constants.R_OK : constants.X_OK);
    } catch (err) {
      if (isPermissionError(err)) return p;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return full;
    }
  }
  return full;
}

/** `uid 1003 (mallory)`, or `uid 1003` when /etc/passwd does not name it. */
export function describeUid(uid: number): string {
  let name: string | undefined;
  try {
    name = parsePasswd(readFileSync('/etc/passwd', 'utf8')).get(uid);
  } catch {
    /* no passwd file */
  }
  return name ? `uid ${uid} (${name})` : `uid ${uid}`;
}

/** `permission denied: PATH (WHY)`, PATH being the one on the way to `path` that is denied. */
export function permissionDenied(path: string, why: string, hint?: string): QpyError {
  return new QpyError('PERMISSION_DENIED', `permission denied: ${deniedPath(path)} (${why})`, hint);
}

/**
 * Refuse a directory this account may not use or does not own: a daemon's
 * directory must be its own. Missing is fine (it is created later).
 */
export function checkOwnDirectory(dir: string, program: string): void {
  let uid: number;
  try {
    uid = statSync(dir).uid;
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(dir, `${program} must run as the account that owns it`);
    return;
  }
  const me = process.getuid?.();
  if (me !== undefined && uid !== me) {
    throw new QpyError(
      'PERMISSION_DENIED',
      `permission denied: ${dir} belongs to ${describeUid(uid)}, not to this account (${describeUid(me)})`,
      `${program} must run as the account that owns it`,
    );
  }
}
