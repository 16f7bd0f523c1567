/**
 * A real interactive bash under tmux, for completion tests: keys are sent
 * with `tmux send-keys`, and the screen is read with `capture-pane`. Each
 * shell gets a tmux server of its own (a private socket), killed on dispose.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export const TMUX = spawnSync('tmux', ['-V']).status === 0 && spawnSync('bash', ['--version']).status === 0;

export interface Shell extends AsyncDisposable {
  /** Send keys (tmux key names: 'Tab', 'Enter', 'C-c', or literal text). */
  keys(...keys: string[]): void;
  /** Type text literally. */
  type(text: string): void;
  screen(): string;
  /** The screen with its colour escapes. */
  screenWithEscapes(): string;
  /** Wait until the screen matches. */
  waitFor(re: RegExp, what: string): Promise<string>;
  /** Clear the line and the screen. */
  reset(): Promise<void>;
}

let n = 0;

/** An interactive bash with `rc` as its rc file, `env` added to its environment, in directory `cwd`. */
export async function tmuxBash(dir: string, rc: string, env: Record<string, string>): Promise<Shell> {
  const socket = `qpy-test-${process.pid}-${++n}`;
  const rcFile = join(dir, `bashrc-${n}`);
  // The environment goes in the rc file: tmux's -e does not reach a new server's first shell reliably.
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
  writeFileSync(rcFile, `PS1='$ '\nbind 'set bell-style none' 2>/dev/null\n${exports}\n${rc}\n`);
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-x', '200', '-y', '50', '-c', dir, 'bash', '--noprofile', '--rcfile', rcFile, '-i');
  const shell: Shell = {
    keys: (...keys) => void tmux('send-keys', '-t', '0', ...keys),
    type: (text) => void tmux('send-keys', '-t', '0', '-l', text),
    screen: () => tmux('capture-pane', '-p', '-N', '-t', '0'),
    screenWithEscapes: () => tmux('capture-pane', '-p', '-e', '-t', '0'),
    waitFor: (re, what) => waitFor(() => (re.test(shell.screen()) ? shell.screen() : null), { what, timeoutMs: 10_000, intervalMs: 20 }),
    async reset() {
      // A C-c that reaches bash after `clear` was typed (a completion still running, a loaded machine)
      // wipes the typed line: so C-c, `clear`, and a short wait for the clear prompt, again until it comes.
      let last = 0;
      await waitFor(
        () => {
          if (shell.screen().trim() === '$') return true;
          if (Date.now() - last > 1500) {
            last = Date.now();
            tmux('send-keys', '-t', '0', 'C-c');
            tmux('send-keys', '-t', '0', 'clear', 'Enter');
          }
          return false;
        },
        { what: 'a clear prompt', timeoutMs: 15_000, intervalMs: 20 },
      );
    },
    async [Symbol.asyncDispose]() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    },
  };
  await shell.waitFor(/\$ $/m, 'the prompt');
  return shell;
}
