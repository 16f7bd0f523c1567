/**
 * The executor conformance suite (conformance.ts) over SSH: the agent on a
 * real OpenSSH sshd node on loopback (test/helpers/sshd-cluster.ts), which
 * shares this machine's file system and process table.
 */
import { before, after } from 'node:test';
import { createSshExecutor } from '../../../src/executor/ssh.js';
import { SSHD, startCluster, type Cluster } from '../../helpers/sshd-cluster.js';
import { conformance, type TransportUnderTest } from './conformance.js';
import { usageConformance } from './conformance-usage.js';

const skip = SSHD ? false : 'sshd is not installed';
let cluster: Cluster | undefined;

before(async () => {
  if (skip) return;
  cluster = await startCluster(1);
  process.env['QPY_SSH_CONFIG'] = cluster.sshConfig;
});
after(async () => {
  delete process.env['QPY_SSH_CONFIG'];
  await cluster?.close();
});

const transport: TransportUnderTest = {
  name: 'ssh',
  skip,
  nodeName: 'node2', // the cluster's first node
  executor: (runDir, opts) => createSshExecutor({ nodeName: 'node2', address: 'node2', runDir, ...opts }),
};
conformance(transport);
usageConformance(transport);
