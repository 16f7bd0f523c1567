/**
 * Host key checking against OpenSSH known_hosts files (pure: text in,
 * verdict out; `knownHostsLine` makes the line accept-new appends).
 * Supports plain and hashed (`|1|salt|hash`) host fields, patterns with `*`,
 * `?` and `!`, `[host]:port` for non-default ports, and the @revoked marker;
 * @cert-authority lines are ignored (host certificates are not supported).
 */
import { createHmac } from 'node:crypto';

export type HostKeyVerdict =
  /** Listed with this very key. */
  | 'known'
  /** Listed with another key of the same type: possibly an attack; never accepted unless the policy is `no`. */
  | 'changed'
  /** Not listed (for this key type). */
  | 'unknown'
  /** This key is marked @revoked. */
  | 'revoked';

/** The name a host is listed under: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, …), or ''. */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return n > 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString('latin1') : '';
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** Does a known_hosts host field list `name`? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) matched = true;
  }
  return matched;
}

/** Check a server's host key blob against the texts of known_hosts files for `name` (see knownHostsName). */
export function checkHostKey(texts: string[], name: string, blob: Buffer): HostKeyVerdict {
  const type = blobKeyType(blob);
  const b64 = blob.toString('base64');
  let known = false;
  let sameTypeListed = false;
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      let marker: string | null = null;
      if (fields[0]!.startsWith('@')) marker = fields.shift()!;
      const [hosts, keyType, key] = fields;
      if (!hosts || !keyType || !key || !hostFieldMatches(hosts, name)) continue;
      if (marker === '@revoked') {
        if (key === b64) return 'revoked';
        continue;
      }
      if (marker !== null) continue; // @cert-authority: not supported
      if (key === b64) known = true;
      else if (keyType === type) sameTypeListed = true;
    }
  }
  if (known) return 'known';
  return sameTypeListed ? 'changed' : 'unknown';
}

/** The known_hosts line recording `blob` for `name`. */
export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${blobKeyType(blob)} ${blob.toString('base64')}\n`;
}
