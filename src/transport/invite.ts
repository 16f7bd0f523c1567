/**
 * One-time invitation codes: how a new user gets their key from the
 * `qpy-multiuser` daemon without the admin copying files between accounts.
 *
 * The admin's `qpy-admin users add NAME` makes a random code (130 bits,
 * base32) and tells it to the user by any channel. The user's `qpy join`
 * authenticates with a key derived from the code (role `join`: the code never
 * travels), and the daemon answers with the user's long-term key sealed with
 * AES-256-GCM under another key derived from the code, so a listener on the
 * network learns nothing. The daemon accepts a code once, until it expires.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { QpyError } from '../errors.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A fresh invitation code: 130 random bits as 26 lowercase base32 letters and
 * digits, safe to paste anywhere (no `-` that a command line would take for
 * an option, no characters a shell or mail client mangles).
 */
export function newInviteCode(): string {
  const bytes = randomBytes(17);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The handshake key of an invitation (what `keyFor('join', user)` returns). */
export function inviteKey(code: string, user: string): Buffer {
  return createHmac('sha256', 'qpy-invite-v1').update(`${user}\n${code.trim()}`).digest();
}

const sealKey = (invite: Buffer): Buffer => createHmac('sha256', invite).update('qpy-invite-seal-v1').digest();

export interface Sealed {
  iv: string;
  data: string;
  tag: string;
}

/** Seal the user's key for the holder of the invitation. */
export function sealUserKey(invite: Buffer, userKey: Buffer): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', sealKey(invite), iv);
  const data = Buffer.concat([c.update(userKey), c.final()]);
  return { iv: iv.toString('hex'), data: data.toString('hex'), tag: c.getAuthTag().toString('hex') };
}

/** Open a sealed key; a tampered or mis-keyed one is an UNAUTHENTICATED error. */
export function openUserKey(invite: Buffer, sealed: Sealed): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', sealKey(invite), Buffer.from(sealed.iv, 'hex'));
    d.setAuthTag(Buffer.from(sealed.tag, 'hex'));
    return Buffer.concat([d.update(Buffer.from(sealed.data, 'hex')), d.final()]);
  } catch {
    throw new QpyError('UNAUTHENTICATED', 'the key sent by qpy-multiuser could not be opened with this invitation code');
  }
}
