/**
 * The authentication handshake, the same on every link.
 *
 * 1. On connect the server sends `hello` with a fresh random nonce (32 bytes,
 *    hex) and its protocol version.
 * 2. The client answers `auth`: its role, protocol version, its own fresh
 *    nonce, and mac = HMAC-SHA256(key, "qpy-auth-v1|client|" + role + "|" +
 *    serverNonce + "|" + clientNonce).
 * 3. The server checks the mac in constant time and answers `welcome` with
 *    mac = HMAC-SHA256(key, "qpy-auth-v1|server|" + serverNonce + "|" +
 *    clientNonce), proving to the client that it too knows the key; or an
 *    error frame, then closes.
 * The key never travels; a recorded handshake is useless because the server's
 * nonce is new for every connection. A socket that has not authenticated
 * within the deadline is closed.
 */
import { int, literal, obj, oneOf, strMax, type Infer } from './schema.js';
import { ROLES } from './version.js';

const hex64 = strMax(128);

export const helloSchema = obj({ type: literal('hello'), protocol: int, nonce: hex64, server: strMax(64) });
export type Hello = Infer<typeof helloSchema>;

export const authSchema = obj({
  type: literal('auth'),
  protocol: int,
  role: oneOf(ROLES),
  /** The user the client speaks for (checked against the key by qpy-multiuser). */
  user: strMax(256),
  nonce: hex64,
  mac: hex64,
});
export type Auth = Infer<typeof authSchema>;

export const welcomeSchema = obj({ type: literal('welcome'), mac: hex64 });
export type Welcome = Infer<typeof welcomeSchema>;

/** The strings that are MACed, in one place so both ends agree. */
export function clientProofInput(role: string, serverNonce: string, clientNonce: string): string {
  return `qpy-auth-v1|client|${role}|${serverNonce}|${clientNonce}`;
}
export function serverProofInput(serverNonce: string, clientNonce: string): string {
  return `qpy-auth-v1|server|${serverNonce}|${clientNonce}`;
}
