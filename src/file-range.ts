/**
 * Reading part of a file (a job's output, for `qpy follow`), shared by the
 * CLI (the job's directory, read here) and the local executor.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Up to `max` bytes of `path` from `offset`; empty if there are none or no file. */
export function readLocalRange(path: string, offset: number, max: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (let r = readSync(fd, buf, 0, max, offset); r > 0 && n < max; r = readSync(fd, buf, n, max - n, offset + n)) n += r;
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
