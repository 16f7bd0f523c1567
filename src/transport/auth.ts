/**
 * HMAC challenge-response proofs (see src/protocol/handshake.ts for the
 * steps). Comparison is constant-time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { clientProofInput, serverProofInput } from '../protocol/handshake.js';

export function freshNonce(): string {
  return randomBytes(32).toString('hex');
}

function mac(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input).digest('hex');
}

export function clientProof(key: Buffer, role: string, serverNonce: string, clientNonce: string): string {
  return mac(key, clientProofInput(role, serverNonce, clientNonce));
}

export function serverProof(key: Buffer, serverNonce: string, clientNonce: string): string {
  return mac(key, serverProofInput(serverNonce, clientNonce));
}

/** Constant-time equality of two hex strings. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
