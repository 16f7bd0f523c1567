/**
 * Where the qpy-multiuser daemon listens: the address and port the admin
 * directory names (the port is kept from the first start, since join codes
 * carry it), and the error a start gets when another program holds that
 * port, naming the holder where it can be found.
 */
import { readFileSync } from 'node:fs';
import type { MultiuserPaths } from '../../config.js';
import { QpyError } from '../../errors.js';
import { portHolder } from '../../transport/socket-owner.js';

/** A file's trimmed text, or null when it is missing or empty. */
export function readOptional(path: string): string | null {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

/** The error for a failed listen on `host`: for a saved port in use, who holds it and what to do. */
export async function listenError(err: unknown, savedPort: number, host: string, paths: MultiuserPaths): Promise<QpyError> {
  if (savedPort > 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const holder = await portHolder(savedPort, host);
    const which =
      holder?.pid != null
        ? `, pid ${holder.pid}`
        : holder?.candidates?.length
          ? `, one of its processes: ${holder.candidates.map((c) => `pid ${c.pid} (${c.command})`).join(', ')}`
          : '';
    const by = holder ? `held by uid ${holder.uid}${holder.user ? ` (${holder.user})` : ''}${which}` : 'in use';
    return new QpyError(
      'ALREADY_RUNNING',
      `port ${savedPort} (from ${paths.port}) is ${by}${holder?.uid === process.getuid?.() ? ': is another qpy-multiuser running?' : ''}`,
      `if it is not a qpy-multiuser of yours, stop that program, or remove ${paths.port} to take another port (users must then join again)`,
    );
  }
  return new QpyError('INTERNAL', `cannot listen on ${host}: ${(err as Error).message}`);
}
