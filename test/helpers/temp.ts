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
      // Retried: a process of the test (a SIGKILLed master's node agent, say) may still be writing a file as it exits.
      rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}
