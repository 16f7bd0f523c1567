/**
 * The discovery file (`$QPY_DIR/master.json`) tells the CLI where this
 * user's master listens: pid, host, port, protocol version. The master writes
 * it atomically only after it is listening, and removes it when it stops; the
 * CLI treats a file whose pid is dead as stale.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { int, obj, str, num, optional } from './protocol/schema.js';
import { isPermissionError, permissionDenied } from './accounts.js';

/** `fingerprint`: qpy-multiuser's TLS certificate, when it listens off loopback (qpy-admin pins it). */
export const discoverySchema = obj({ pid: int, host: str, port: int, protocol: int, startedAt: num, fingerprint: optional(str) });
export type Discovery = ReturnType<typeof discoverySchema>;

export function writeDiscovery(path: string, d: Discovery): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(d)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * The discovery record, or null if the file is missing or malformed. One that
 * this account may not read is a PERMISSION_DENIED error naming the path
 * denied (not "not running"): `why` says who may.
 */
export function readDiscovery(path: string, why = 'this account may not read it'): Discovery | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(path, why);
    return null;
  }
  try {
    return discoverySchema(JSON.parse(text), '$');
  } catch {
    return null;
  }
}

/** Remove the file if it still describes process `pid`. */
export function removeDiscovery(path: string, pid: number): void {
  let d: Discovery | null;
  try {
    d = readDiscovery(path);
  } catch {
    return; // not ours to remove
  }
  if (d && d.pid !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Is process `pid` alive? A zombie (exited, not yet reaped by its parent) is not. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." — the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
