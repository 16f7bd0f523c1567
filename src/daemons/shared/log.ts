/**
 * A daemon's log: one line per event, `<ISO time> <message>`, appended to a
 * file (and to stderr in the foreground). Logging never throws.
 */
import { appendFileSync } from 'node:fs';

export type Log = (line: string) => void;

export function fileLog(path: string, alsoStderr: boolean): Log {
  return (line) => {
    const text = `${new Date().toISOString()} ${line}\n`;
    try {
      appendFileSync(path, text, { mode: 0o600 });
    } catch {
      /* a full disk must not kill the daemon */
    }
    if (alsoStderr) process.stderr.write(text);
  };
}
