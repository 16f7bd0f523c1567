/**
 * `qpy __complete CWORD WORDS…`, what the completion script runs on each
 * TAB: the pure completion (complete.ts) with its lookups. Job IDs, node
 * names and attributes come from a running master only: TAB never starts
 * one. Without a master, node names and attributes come from the personal
 * nodes file (or this machine, `localhost`, when the user has not joined a
 * cluster's qpy-multiuser). Any failure offers nothing rather than an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseNodesFile } from '../allocator/nodes-file.js';
import { userPaths, type UserPaths } from '../config.js';
import { COMMANDS } from './commands/index.js';
import { completeLine, STATUSES_OF, type IdKind, type Source } from './complete.js';
import { renderReply } from './complete-bash.js';
import { completablesOf } from './complete-commander.js';
import { findMaster } from './connect.js';

export async function completeForShell(args: readonly string[]): Promise<number> {
  const index = Number(args[0]) - 1;
  if (!Number.isSafeInteger(index) || index < 0) return 0;
  const paths = userPaths();
  const lookup = (from: Source) => (from === 'attributes' ? nodeWords(paths) : from in STATUSES_OF ? jobIds(paths, from as IdKind) : []);
  const reply = await completeLine('qpy', completablesOf(COMMANDS), args.slice(1), index, async (from) => lookup(from)).catch(() => null);
  if (reply) process.stdout.write(renderReply(reply));
  return 0;
}

async function jobIds(paths: UserPaths, kind: IdKind): Promise<string[]> {
  const conn = await findMaster(paths).catch(() => null);
  if (!conn) return [];
  try {
    const statuses = STATUSES_OF[kind];
    const r = await conn.request({ type: 'jobIds', statuses: statuses === null ? null : [...statuses] });
    return r.type === 'ids' ? r.ids.map(String) : [];
  } finally {
    conn.close();
  }
}

/** Node names and attributes, the atoms of an attribute expression. */
async function nodeWords(paths: UserPaths): Promise<string[]> {
  const conn = await findMaster(paths).catch(() => null);
  if (conn) {
    try {
      const r = await conn.request({ type: 'status' });
      if (r.type === 'status') return atoms(r.status.nodes);
    } catch {
      /* fall back to the file */
    } finally {
      conn.close();
    }
  }
  try {
    const parsed = parseNodesFile(readFileSync(paths.nodes, 'utf8'));
    return parsed.ok ? atoms(parsed.nodes) : [];
  } catch {
    return existsSync(paths.multiuser) ? [] : ['localhost']; // the embedded default's one node
  }
}

function atoms(nodes: readonly { name: string; attributes: readonly string[] }[]): string[] {
  return [...new Set(nodes.flatMap((n) => [n.name, ...n.attributes]))].sort();
}
