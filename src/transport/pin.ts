/**
 * Certificate pinning for the TLS links to qpy-multiuser. The daemon's
 * certificate is self-signed (there is no CA): a client trusts it only if
 * its SHA-256 fingerprint is one it was given over a trusted channel (the
 * join code, or a push on an already pinned, authenticated link). Both
 * WebSocket clients (ws-socket.ts, light-socket.ts) check it as soon as the
 * TLS handshake is done, before anything of the WebSocket is read.
 *
 * Fingerprints are written as Node and openssl show them: 32 bytes in
 * upper-case hex pairs joined by colons (`4B:EB:…:6D`). No `node:tls` import
 * here (types only): the CLI loads tls only for a wss:// URL.
 */
import type { TLSSocket } from 'node:tls';

/** How a client checks the server's certificate. */
export interface PinOptions {
  /** The fingerprints it accepts (usually one; two while a rotation is under way). */
  pinned: readonly string[];
  /** Told the fingerprint of a server that passed (the link then knows which pin is in use). */
  seen?(fingerprint: string): void;
}

/** The server presented a certificate that is not pinned. */
export class CertificateMismatch extends Error {
  constructor(
    readonly presented: string,
    readonly pinned: readonly string[],
  ) {
    super(`the server's TLS certificate (SHA-256 ${presented || 'none'}) is not the pinned one (${pinned.join(' or ') || 'none'})`);
    this.name = 'CertificateMismatch';
  }
}

const FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;

/** A fingerprint in its canonical form, or null if `text` is none (colons optional, any case). */
export function normalFingerprint(text: string): string | null {
  const hex = text.trim().replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  const fp = hex.match(/../g)!.join(':');
  return FINGERPRINT.test(fp) ? fp : null;
}

/** The fingerprint as 32 bytes. */
export const fingerprintBytes = (fp: string): Buffer => Buffer.from(fp.replace(/:/g, ''), 'hex');

/** The canonical fingerprint of 32 bytes. */
export const fingerprintOfBytes = (bytes: Buffer): string => normalFingerprint(bytes.toString('hex'))!;

/**
 * Check a TLS socket whose handshake is done against `pin`: null if its
 * certificate is pinned (and `seen` told), else the error to fail with.
 */
export function checkPin(socket: TLSSocket, pin: PinOptions): CertificateMismatch | null {
  const presented = normalFingerprint(socket.getPeerCertificate()?.fingerprint256 ?? '') ?? '';
  const pinned = pin.pinned.map((p) => normalFingerprint(p) ?? p);
  if (presented === '' || !pinned.includes(presented)) return new CertificateMismatch(presented, pinned);
  pin.seen?.(presented);
  return null;
}
