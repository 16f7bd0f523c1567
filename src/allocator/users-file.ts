/**
 * The administrator's `allowed_users` file: one user name per line; blank
 * lines and `#` comments are allowed. Names are what masters register as
 * (login names, or QPY_USER for simulated users). Pure: text in, names out.
 */
import { configLines } from './config-lines.js';

/** A user name qpy accepts: a login-name-like word. */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

export type UsersFileResult = { ok: true; users: string[] } | { ok: false; line: number; message: string };

export function parseAllowedUsers(text: string): UsersFileResult {
  const users: string[] = [];
  for (const { lineNo: line, words } of configLines(text)) {
    if (words.length !== 1) return { ok: false, line, message: `line ${line}: one user name per line, not "${words.join(' ')}"` };
    const name = words[0]!;
    if (!USER_NAME.test(name)) return { ok: false, line, message: `line ${line}: "${name}" is not a valid user name` };
    if (!users.includes(name)) users.push(name);
  }
  return { ok: true, users };
}

/** The file's text with `name` added (at the end) or removed, comments and other lines kept. */
export function editAllowedUsers(text: string, name: string, present: boolean): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.filter((l) => l.replace(/#.*/, '').trim() !== name);
  if (present) kept.push(name);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}
