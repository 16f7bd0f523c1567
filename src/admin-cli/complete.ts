/**
 * `qpy-admin __complete CWORD WORDS…`: qpy-admin's tab completion, read from
 * the commander program it parses with (names, summaries for `?`, options),
 * with the positional arguments described here. Node and user names come
 * from the running daemon if any (never started for it), and user names
 * also from allowed_users.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllowedUsers } from '../allocator/users-file.js';
import type { MultiuserPaths } from '../config.js';
import { completeLine, type Completer, type Source } from '../cli/complete.js';
import { renderReply } from '../cli/complete-bash.js';
import { completableOf } from '../cli/complete-commander.js';
import { connectAdmin } from './connect.js';

const nodeName: Completer = (args) => (args.length === 0 ? { kind: 'words', words: [], from: 'nodes' } : { kind: 'none' });

/** What each command's positional arguments complete to (none if absent). */
const ARGUMENTS: Record<string, Completer> = {
  users: (args) =>
    args.length === 0
      ? { kind: 'words', words: ['add', 'remove'] }
      : (args[0] === 'remove' || args[0] === 'add') && args.length === 1
        ? { kind: 'words', words: [], from: 'users' }
        : { kind: 'none' },
  drain: nodeName,
  web: (args) => (args.length === 0 ? { kind: 'words', words: ['on', 'off'] } : { kind: 'none' }),
  resume: nodeName,
  completion: (args) => (args.length === 0 ? { kind: 'words', words: ['bash'] } : { kind: 'none' }),
};

export async function completeForShell(args: readonly string[], paths: MultiuserPaths, program: Command): Promise<number> {
  const index = Number(args[0]) - 1;
  if (!Number.isSafeInteger(index) || index < 0) return 0;
  const table = program.commands.map((c) => completableOf(c, ARGUMENTS[c.name()]));
  const reply = await completeLine('qpy-admin', table, args.slice(1), index, (from) => lookup(paths, from)).catch(() => null);
  if (reply) process.stdout.write(renderReply(reply));
  return 0;
}

async function lookup(paths: MultiuserPaths, from: Source): Promise<string[]> {
  if (from !== 'nodes' && from !== 'users') return [];
  // Users: those allowed (the file is the admin's own) and those the daemon still knows.
  const allowed = from === 'users' ? allowedUsers(paths.allowedUsers) : [];
  const c = await connectAdmin(paths).catch(() => null);
  if (!c) return allowed;
  try {
    const r = await c.request({ type: 'status' });
    if (r.type !== 'status') return [];
    return from === 'nodes' ? r.status.nodes.map((n) => n.name) : [...new Set([...allowed, ...r.status.users.map((u) => u.name)])];
  } finally {
    c.close();
  }
}

function allowedUsers(path: string): string[] {
  try {
    const r = parseAllowedUsers(readFileSync(path, 'utf8'));
    return r.ok ? r.users : [];
  } catch {
    return [];
  }
}
