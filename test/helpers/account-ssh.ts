/**
 * SSH access to a test cluster (started with `perUserKeys`) for one real
 * account, set up as a user would: in its own ~/.ssh, owned by it, with the
 * modes sshd's StrictModes and OpenSSH's client demand: a key pair
 * (id_ed25519), authorized_keys listing it, a `config` naming every node
 * (`Host nodeN`, read by `ssh -G` from the passwd home, so qpy needs no
 * QPY_SSH_CONFIG), and known_hosts with the nodes' host key.
 */
import { chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keygen, type Cluster } from './sshd-cluster.js';
import type { Account } from './accounts.js';

/** Give `a` key logins to every node of `cluster`; returns its ssh_config path. */
export function giveSshAccess(cluster: Cluster, a: Account): string {
  const dir = join(a.home, '.ssh');
  mkdirSync(dir, { mode: 0o700 });
  const key = join(dir, 'id_ed25519');
  keygen(key);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), readFileSync(cluster.knownHosts), { mode: 0o600 });
  const config = cluster.nodes.flatMap((n) => [
    `Host ${n.name}`,
    `  HostName ${n.address}`,
    `  Port ${n.port}`,
    `  User ${a.name}`,
    '  IdentityFile ~/.ssh/id_ed25519',
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '',
  ]);
  writeFileSync(join(dir, 'config'), config.join('\n'), { mode: 0o600 });
  for (const f of ['', ...readdirSync(dir)]) chownSync(join(dir, f), a.uid, a.gid);
  return join(dir, 'config');
}
