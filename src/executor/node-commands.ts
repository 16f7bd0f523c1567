/**
 * Short commands on nodes, for qpy-multiuser's probes: each runs over one
 * kept SSH connection per node (opened on first use, dropped when it fails),
 * or locally for nodes at this machine. Output is stdout; a non-zero exit
 * status or a timeout is an error.
 */
import { execFile } from 'node:child_process';
import type { Client } from 'ssh2';
import { connectSsh, openExec } from '../ssh/connection.js';
import { resolveSsh } from '../ssh/ssh-config.js';
import { isLocalAddress } from '../protocol/cluster.js';

export interface NodeCommands {
  /** Run `command` (a sh command line) on node `name` at `address` ("localhost" runs it here). */
  run(name: string, address: string, command: string, timeoutMs: number): Promise<string>;
  /** Close node `name`'s kept connection, if any (the next run opens one again). */
  forget(name: string): void;
  close(): void;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}

export function nodeCommands(): NodeCommands {
  const clients = new Map<string, Promise<Client>>();

  const drop = (name: string): void => {
    clients.get(name)?.then(
      (c) => c.end(),
      () => undefined,
    );
    clients.delete(name);
  };

  async function remote(name: string, address: string, command: string): Promise<string> {
    let client = clients.get(name);
    if (!client) {
      const opening = resolveSsh(address).then((s) => connectSsh(name, s, { keepaliveMs: 10_000 }));
      clients.set(name, opening);
      opening.then(
        (c) => c.once('close', () => clients.get(name) === opening && clients.delete(name)),
        () => clients.delete(name),
      );
      client = opening;
    }
    const ch = await openExec(await client, command);
    return new Promise((resolve, reject) => {
      let out = '';
      ch.setEncoding('utf8');
      ch.on('data', (d: string) => (out += d));
      ch.stderr.resume();
      ch.on('close', (code: number | null) => (code === 0 || code === null ? resolve(out) : reject(new Error(`exit status ${code}`))));
      ch.on('error', reject);
    });
  }

  const local = (command: string, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile('/bin/sh', ['-c', command], { timeout: timeoutMs }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );

  return {
    run(name, address, command, timeoutMs) {
      const p = isLocalAddress(address) ? local(command, timeoutMs) : remote(name, address, command);
      return withTimeout(p, timeoutMs, `node ${name}`).catch((err: unknown) => {
        drop(name);
        throw err;
      });
    },
    forget: drop,
    close() {
      for (const name of [...clients.keys()]) drop(name);
    },
  };
}
