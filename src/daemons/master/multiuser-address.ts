/**
 * Where a master reaches qpy-multiuser. On the daemon's own host it uses the
 * daemon's Unix domain socket (given at `qpy join`, kept in multiuser.json):
 * the socket lies in the admin's directory, where no other account can put
 * one, so a squatter on the TCP port cannot stand in for the daemon. Masters
 * on other hosts use TCP (a socket path seen over a shared file system would
 * lead nowhere: it is bound on the daemon's host only), over TLS with the
 * daemon's certificate pinned when it listens off loopback (a fingerprint
 * in multiuser.json).
 */
import { networkInterfaces } from 'node:os';
import { isLoopback } from '../../protocol/cluster.js';

export interface MultiuserAddress {
  address: string;
  port: number;
  socket?: string | undefined;
  /** The pinned TLS certificate: present, the TCP link is wss://. */
  fingerprint?: string | undefined;
}

/** Is `address` this host: a loopback name or one of its interfaces' addresses? */
export function isThisHost(address: string): boolean {
  if (isLoopback(address)) return true;
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.address === address) return true;
  return false;
}

/** The WebSocket URL a master on this host connects to. */
export function multiuserUrl(at: MultiuserAddress): string {
  if (at.socket?.startsWith('/') && isThisHost(at.address)) return `ws+unix://${at.socket}:/`;
  return `${at.fingerprint !== undefined ? 'wss' : 'ws'}://${at.address.includes(':') ? `[${at.address}]` : at.address}:${at.port}/`;
}
