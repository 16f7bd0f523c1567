/**
 * Temporary directories for tests, removed on dispose (`await using`).
 */
import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** A fresh directory under the system temp dir (physical path, no symlinks). */
export function tempDir(prefix = 'qpy-test-'): TempDir {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return {
    path,
    async [Symbol.asyncDispose]() {
      // Retried for up to 15 s: a process of the test may still be writing a file as it exits (a node
      // agent reached over SSH, which outlives its SIGKILLed master until it has recorded its jobs' ends).
      const removed = () => {
        try {
          rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
          return true;
        } catch {
          return false;
        }
      };
      await waitFor(removed, { what: `${path} removed`, timeoutMs: 15_000, intervalMs: 100 });
    },
  };
}
