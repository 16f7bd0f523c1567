/**
 * Opening one SSH connection (ssh2) with the settings OpenSSH would use
 * (ssh-config.ts): the agent and the identity files, host keys checked
 * against known_hosts (known-hosts.ts) under the user's
 * StrictHostKeyChecking policy, Nagle off, keepalives on. Errors are
 * QpyErrors naming the node.
 */
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client, ClientChannel } from 'ssh2';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { QpyError } from '../errors.js';
import { checkHostKey, knownHostsLine, knownHostsName } from './known-hosts.js';
import type { SshSettings } from './ssh-config.js';

export interface ConnectOptions {
  /** Keepalive period (ms); the link is declared dead after 3 unanswered. */
  keepaliveMs?: number;
  /** Deadline for the TCP connection and SSH handshake (ms). */
  readyTimeoutMs?: number;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Auth methods in OpenSSH's order: the agent, then each readable, unencrypted identity file. */
function authMethods(s: SshSettings): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (s.agent && !s.identitiesOnly) methods.push({ type: 'agent', username: s.user, agent: s.agent });
  for (const file of s.identityFiles) {
    const text = readOrNull(file);
    if (text === null) continue;
    const parsed = ssh2.utils.parseKey(text);
    if (parsed instanceof Error) continue; // encrypted without a passphrase, or not a key
    methods.push({ type: 'publickey', username: s.user, key: text });
  }
  if (s.agent && s.identitiesOnly) methods.push({ type: 'agent', username: s.user, agent: s.agent });
  return methods;
}

/** Connect to node `node` (a name for messages) with `s`. Resolves once authenticated. */
export function connectSsh(node: string, s: SshSettings, opts: ConnectOptions = {}): Promise<Client> {
  if (s.unsupported) {
    return Promise.reject(
      new QpyError('SSH_CONFIG', `node ${node}: ${s.unsupported} is not supported`, 'give the node an address qpy can reach directly'),
    );
  }
  const where = `node ${node} (${s.user}@${s.host}:${s.port})`;
  const methods = authMethods(s);
  if (methods.length === 0) {
    return Promise.reject(
      new QpyError(
        'SSH_AUTH',
        `${where}: no usable SSH key (no agent, and no readable unencrypted identity file)`,
        'run ssh-agent, or check IdentityFile in your ssh_config',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyProblem: string | null = null;
    const name = knownHostsName(s.hostKeyAlias ?? s.host, s.port);
    const hostVerifier = (blob: Buffer): boolean => {
      const texts = s.knownHostsFiles.map(readOrNull).filter((t): t is string => t !== null);
      const verdict = checkHostKey(texts, name, blob);
      if (verdict === 'known') return true;
      if (verdict === 'revoked') hostKeyProblem = `the host key of ${where} is marked @revoked in known_hosts`;
      else if (verdict === 'changed' && s.hostKeyPolicy !== 'no')
        hostKeyProblem = `the host key of ${where} has CHANGED since it was recorded in known_hosts (possibly an attack)`;
      else if (verdict === 'unknown' && s.hostKeyPolicy === 'yes') hostKeyProblem = `the host key of ${where} is not in known_hosts`;
      if (hostKeyProblem) return false;
      if (verdict === 'unknown' && s.hostKeyPolicy === 'accept-new' && s.knownHostsFiles[0]) {
        try {
          mkdirSync(dirname(s.knownHostsFiles[0]), { recursive: true, mode: 0o700 });
          appendFileSync(s.knownHostsFiles[0], knownHostsLine(name, blob), { mode: 0o600 });
        } catch {
          /* accepted for this connection even if it cannot be recorded */
        }
      }
      return true;
    };
    // A connection the server closes before it is ready (sshd starting or stopping, MaxStartups) gives
    // ssh2 no 'error', only 'close', and clears its ready timeout: without this, the attempt never settled.
    const closedEarly = () => reject(new QpyError('SSH_CONNECT', `${where}: the connection was closed before it was ready`));
    client.once('close', closedEarly);
    client.once('ready', () => {
      client.removeListener('close', closedEarly);
      client.removeAllListeners('error');
      client.on('error', () => undefined); // later errors surface as 'close'
      resolve(client);
    });
    client.once('error', (err: Error & { level?: string }) => {
      client.end();
      if (hostKeyProblem) return reject(new QpyError('HOST_KEY', hostKeyProblem, `check it, then run: ssh ${node}`));
      if (err.level === 'client-authentication')
        return reject(
          new QpyError('SSH_AUTH', `${where}: authentication failed`, `check that \`ssh ${node} true\` works without a password`),
        );
      reject(new QpyError('SSH_CONNECT', `${where}: ${err.message}`));
    });
    client.connect({
      host: s.host,
      port: s.port,
      username: s.user,
      authHandler: methods,
      hostVerifier,
      keepaliveInterval: opts.keepaliveMs ?? 2000,
      keepaliveCountMax: 3,
      readyTimeout: opts.readyTimeoutMs ?? s.connectTimeoutMs ?? 20_000,
    });
    client.setNoDelay(true);
  });
}

/** Open an exec channel, retrying "Channel open failure" (sshd's MaxSessions) a few times. */
export async function openExec(client: Client, command: string, attempts = 5): Promise<ClientChannel> {
  for (let i = 1; ; i++) {
    try {
      return await new Promise<ClientChannel>((resolve, reject) => client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
    } catch (err) {
      if (i >= attempts || !/open failure|failed to open/i.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 20 * i));
    }
  }
}
