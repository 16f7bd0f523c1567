/**
 * bench/dispatch-ssh: jobs/s for `/bin/true` jobs over 4 real OpenSSH sshd
 * nodes on loopback (32 cores each, declared in a personal nodes file), the
 * delay from a job's exit to `check` showing it, and how many SSH connections
 * the master opened, counted on the sshd side.
 */
import { startCluster } from '../test/helpers/sshd-cluster.js';
import { benchUser, conditions } from './lib.js';
import { measureDispatch } from './dispatch-measure.js';

console.log(`bench/dispatch-ssh — ${conditions()}`);
const cluster = await startCluster(4);
process.env['QPY_SSH_CONFIG'] = cluster.sshConfig;
const nodes = `${cluster.nodes.map((n) => `${n.name} address=${n.name} cores=32 memory=64`).join('\n')}\n`;
console.log(
  `conditions: embedded default, personal nodes file of 4 loopback sshd nodes (${cluster.nodes.map((n) => n.address).join(', ')}), ` +
    '32 cores each; jobs submitted over one protocol connection',
);
const u = benchUser(nodes);
try {
  await measureDispatch(u, 'ssh dispatch');
  const counts = cluster.nodes.map((n, i) => `${n.name} ${cluster.connections(i)}`);
  console.log(`SSH connections accepted by each sshd: ${counts.join(', ')}`);
} finally {
  u.cleanup();
  await cluster.close();
}
