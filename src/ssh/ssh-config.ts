/**
 * A node's SSH settings, resolved exactly as the user's OpenSSH would:
 * `ssh -G <address>` prints the final configuration (Host and Match blocks,
 * Include, defaults applied). `parseSshG` is pure; `resolveSsh` runs ssh.
 * QPY_SSH_CONFIG names an ssh_config file to use instead of ~/.ssh/config
 * (`ssh -F`), as tests and unusual set-ups need.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { QpyError } from '../errors.js';

/** How to treat a host key that known_hosts does not list (OpenSSH's StrictHostKeyChecking). */
export type HostKeyPolicy = 'yes' | 'accept-new' | 'no';

export interface SshSettings {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Only the identity files, not the agent's other keys (IdentitiesOnly). */
  identitiesOnly: boolean;
  /** known_hosts files, user's first (new keys are added to the first one with accept-new). */
  knownHostsFiles: string[];
  /** The name host keys are looked up under (HostKeyAlias), else the host itself. */
  hostKeyAlias: string | null;
  hostKeyPolicy: HostKeyPolicy;
  /** ConnectTimeout in ms, or null for none. */
  connectTimeoutMs: number | null;
  /** The agent socket (IdentityAgent, else SSH_AUTH_SOCK), or null. */
  agent: string | null;
  /** Set when the configuration needs something ssh2 cannot do (ProxyJump, ProxyCommand). */
  unsupported: string | null;
}

const expandHome = (path: string, home: string): string => (path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path);

/** Parse `ssh -G` output. `env` gives SSH_AUTH_SOCK; `home` expands `~`. */
export function parseSshG(text: string, env: NodeJS.ProcessEnv = {}, home = homedir()): SshSettings {
  const one = new Map<string, string>();
  const many = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const key = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    const value = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (!one.has(key)) one.set(key, value);
    many.set(key, [...(many.get(key) ?? []), value]);
  }
  const strict = (one.get('stricthostkeychecking') ?? 'true').toLowerCase();
  const policy: HostKeyPolicy =
    strict === 'accept-new' ? 'accept-new' : strict === 'false' || strict === 'no' || strict === 'off' ? 'no' : 'yes';
  const timeout = one.get('connecttimeout');
  const agentSetting = one.get('identityagent');
  let agent: string | null = env['SSH_AUTH_SOCK'] ?? null;
  if (agentSetting && agentSetting.toLowerCase() !== 'ssh_auth_sock')
    agent = agentSetting.toLowerCase() === 'none' ? null : expandHome(agentSetting, home);
  const knownHostsFiles = [
    ...(many.get('userknownhostsfile') ?? []).flatMap((v) => v.split(/\s+/)),
    ...(many.get('globalknownhostsfile') ?? []).flatMap((v) => v.split(/\s+/)),
  ]
    .filter((f) => f && f.toLowerCase() !== 'none')
    .map((f) => expandHome(f, home));
  const proxyJump = one.get('proxyjump');
  const proxyCommand = one.get('proxycommand');
  const unsupported =
    proxyJump && proxyJump.toLowerCase() !== 'none'
      ? `ProxyJump ${proxyJump}`
      : proxyCommand && proxyCommand.toLowerCase() !== 'none'
        ? `ProxyCommand ${proxyCommand}`
        : null;
  return {
    host: one.get('hostname') ?? '',
    port: Number(one.get('port') ?? 22),
    user: one.get('user') ?? '',
    identityFiles: (many.get('identityfile') ?? []).map((f) => expandHome(f, home)),
    identitiesOnly: (one.get('identitiesonly') ?? 'no').toLowerCase() === 'yes',
    knownHostsFiles,
    hostKeyAlias: one.get('hostkeyalias') ?? null,
    hostKeyPolicy: policy,
    connectTimeoutMs: timeout && /^[0-9]+$/.test(timeout) ? Number(timeout) * 1000 : null,
    agent,
    unsupported,
  };
}

/** The ssh_config file to read instead of the user's own (QPY_SSH_CONFIG), if any. */
export function sshConfigFile(env: NodeJS.ProcessEnv = process.env): string | null {
  return env['QPY_SSH_CONFIG'] || null;
}

/** Resolve `address` (a host name, an IP or an ssh_config alias) with `ssh -G`. */
export function resolveSsh(address: string, env: NodeJS.ProcessEnv = process.env): Promise<SshSettings> {
  const file = sshConfigFile(env);
  const args = [...(file ? ['-F', file] : []), '-G', '--', address];
  return new Promise((resolve, reject) => {
    execFile('ssh', args, { timeout: 10_000, env }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim().split('\n')[0] || err.message;
        return reject(
          new QpyError(
            'SSH_CONFIG',
            `cannot resolve the SSH settings of ${address}: ${why}`,
            `check \`ssh -G ${address}\` and your ssh_config`,
          ),
        );
      }
      resolve(parseSshG(stdout, env));
    });
  });
}
