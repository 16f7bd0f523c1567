/**
 * The event log's file, $QPY_DIR/events.jsonl (manual/files.md): lines are
 * buffered and appended in batches, by one asynchronous write at a time and
 * never an fsync, so the dispatch loop never waits on it. Rotated by size:
 * past `maxBytes` the file becomes events.jsonl.1 (.1 becomes .2, and so on,
 * `keep` of them kept). A write that fails is logged once (until one works
 * again) and its lines dropped: the log is a record for tools, the store is
 * the truth.
 */
import { closeSync, fstatSync, openSync, renameSync, rmSync, write, writeSync } from 'node:fs';
import type { Log } from '../shared/log.js';

export interface EventFile {
  /** Append one line (with its newline), soon. */
  append(line: string): void;
  /** Write what is buffered, now and synchronously (the master is stopping), and close the file. */
  close(): void;
}

/** How long lines wait for company before they are written. */
const BATCH_MS = 20;

export function openEventFile(path: string, maxBytes: number, keep: number, log: Log): EventFile {
  let fd: number | null = null;
  let size = 0;
  let lines: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing = false;
  let failing = false;
  let closed = false;

  const problem = (what: string, err: unknown) => {
    if (!failing) log(`event log: cannot ${what} ${path}: ${(err as Error).message}; lines are dropped until it works again`);
    failing = true;
  };
  const open = (): number | null => {
    if (fd !== null) return fd;
    try {
      fd = openSync(path, 'a', 0o600);
      size = fstatSync(fd).size;
    } catch (err) {
      problem('open', err);
    }
    return fd;
  };
  /** events.jsonl → .1 → .2 … → .keep (the oldest dropped). */
  const rotate = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
    try {
      rmSync(`${path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) {
        try {
          renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch {
          /* not there yet */
        }
      }
      renameSync(path, `${path}.1`);
    } catch (err) {
      problem('rotate', err);
    }
  };
  const take = (): Buffer | null => {
    if (lines.length === 0) return null;
    const buf = Buffer.from(lines.join(''));
    lines = [];
    if (size > 0 && size + buf.length > maxBytes && !writing) rotate();
    return open() === null ? null : buf;
  };
  const flush = () => {
    timer = null;
    if (writing || closed) return;
    const buf = take();
    if (buf === null) return;
    writing = true;
    write(fd!, buf, (err) => {
      writing = false;
      if (closed) {
        if (fd !== null) closeSync(fd);
        fd = null;
        return;
      }
      if (err) problem('write', err);
      else {
        size += buf.length;
        failing = false;
      }
      if (lines.length > 0 && timer === null) timer = setTimeout(flush, BATCH_MS);
    });
  };
  return {
    append(line) {
      if (closed) return;
      lines.push(line);
      if (timer === null && !writing) timer = setTimeout(flush, BATCH_MS);
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== null) clearTimeout(timer);
      try {
        // A write still in flight closes the file when it is done (both append: O_APPEND).
        const buf = take();
        if (buf !== null) writeSync(fd!, buf);
        if (!writing && fd !== null) closeSync(fd);
      } catch (err) {
        problem('write', err);
      }
      if (!writing) fd = null;
    },
  };
}
