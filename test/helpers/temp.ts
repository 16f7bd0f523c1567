/**
 * Temporary directories for tests, removed on dispose (`await using`).
 */
import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
