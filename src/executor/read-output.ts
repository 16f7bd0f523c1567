/**
 * Reading part of a job's output file on its node, for `qpy follow`, over
 * the node's kept SSH connection (`tail -c +N`, POSIX, and `head -c`): the
 * lines a job writes are seen before a shared file system would show them on
 * the head machine. Jobs on this machine are read with src/file-range.ts.
 */
import type { Client } from 'ssh2';
import { openExec } from '../ssh/connection.js';
import { shellQuote } from './wrapper.js';

/** Up to `max` bytes of `path` from `offset`, read on the node at the other end of `client` (empty if none). */
export async function readRemoteRange(client: Client, path: string, offset: number, max: number): Promise<Buffer> {
  const ch = await openExec(client, `tail -c +${offset + 1} ${shellQuote(path)} 2>/dev/null | head -c ${max}`);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    ch.on('data', (d: Buffer) => parts.push(d));
    ch.stderr.resume();
    ch.on('close', () => resolve(Buffer.concat(parts)));
    ch.on('error', reject);
  });
}
