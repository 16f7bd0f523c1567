/**
 * Reading a pilot file (protocol/pilot.ts `pilotFileSchema`): where the
 * pilot's master listens, its certificate's fingerprint, the pool and its
 * secret. The master writes it on the shared home (mode 0600); the secret
 * is never on a command line, where other users could read it. A file that
 * others may read, or that is not a valid pilot file, is refused with one
 * clear sentence.
 */
import { readFileSync, statSync } from 'node:fs';
import { QpyError } from '../errors.js';
import { parseFrame } from '../protocol/parse.js';
import { pilotFileSchema, type PilotFile } from '../protocol/pilot.js';
import { normalFingerprint } from '../transport/pin.js';

const MAX_FILE_BYTES = 64 * 1024;

/** The pilot file at `path`, checked; a QpyError (INVALID_ARGUMENT) saying what is wrong. */
export function readPilotFile(path: string): PilotFile {
  const bad = (what: string, hint?: string) => new QpyError('INVALID_ARGUMENT', `pilot file ${path}: ${what}`, hint);
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw bad('not a regular file');
    if ((st.mode & 0o077) !== 0)
      throw bad(`open to other users (mode ${(st.mode & 0o777).toString(8)}): its secret may have been read`, `run: chmod 600 ${path}`);
    if (st.size > MAX_FILE_BYTES) throw bad(`too big (${st.size} bytes)`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof QpyError) throw err;
    throw bad(`cannot be read: ${(err as Error).message}`);
  }
  const parsed = parseFrame(text, pilotFileSchema, MAX_FILE_BYTES);
  if (!parsed.ok) throw bad(parsed.message.replace(/^invalid message: /, '').replace(/^frame is not valid JSON$/, 'not valid JSON'));
  const file = parsed.value;
  const fingerprint = normalFingerprint(file.fingerprint);
  if (fingerprint === null) throw bad('"fingerprint" is not a SHA-256 fingerprint');
  if (!/^[0-9a-f]{64}$/.test(file.secret)) throw bad('"secret" is not 64 hex digits');
  return { ...file, fingerprint };
}

/** The master's address as a wss:// URL (an IPv6 address in brackets). */
export function pilotUrl(file: PilotFile): string {
  const host = file.host.includes(':') && !file.host.startsWith('[') ? `[${file.host}]` : file.host;
  return `wss://${host}:${file.port}/`;
}
