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
 *
 * When the daemon listens on the network it speaks TLS with a self-signed
 * certificate, and the text the user pastes (the join code) is the code
 * followed by that certificate's SHA-256 fingerprint, also in base32: 26 + 52
 * = 78 letters and digits, one word. `qpy join` pins the fingerprint.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { QpyError } from '../errors.js';
import { fingerprintBytes, fingerprintOfBytes } from './pin.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `bytes` as lowercase base32 letters and digits, `length` of them (the last bits padded with zeros). */
function base32(bytes: Buffer, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of [...bytes, 0]) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The bytes of base32 `text` (lowercase); null if a letter is not base32 or the padding bits are not zero. */
function fromBase32(text: string, byteLength: number): Buffer | null {
  const out = Buffer.alloc(byteLength);
  let bits = 0;
  let value = 0;
  let n = 0;
  for (const c of text) {
    const v = BASE32.indexOf(c);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      if (n === byteLength) return null;
      out[n++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return n === byteLength && (value & ((1 << bits) - 1)) === 0 ? out : null;
}

/**
 * A fresh invitation code: 130 random bits as 26 lowercase base32 letters and
 * digits, safe to paste anywhere (no `-` that a command line would take for
 * an option, no characters a shell or mail client mangles).
 */
export function newInviteCode(): string {
  return base32(randomBytes(17), 26);
}

/** Letters of the code proper, and of a fingerprint in base32. */
export const CODE_LENGTH = 26;
export const FINGERPRINT_LENGTH = 52;

/** The join code a user pastes: the code, then the certificate's fingerprint if the daemon uses TLS. */
export function joinCodeText(code: string, fingerprint?: string | null): string {
  return fingerprint ? code + base32(fingerprintBytes(fingerprint), FINGERPRINT_LENGTH) : code;
}

/** A join code (normalized: lowercase, no blanks) taken apart; null if it is none. */
export function splitJoinCode(text: string): { code: string; fingerprint?: string } | null {
  if (!/^[a-z2-7]+$/.test(text)) return null;
  if (text.length === CODE_LENGTH) return { code: text };
  if (text.length !== CODE_LENGTH + FINGERPRINT_LENGTH) return null;
  const bytes = fromBase32(text.slice(CODE_LENGTH), 32);
  return bytes === null ? null : { code: text.slice(0, CODE_LENGTH), fingerprint: fingerprintOfBytes(bytes) };
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
