/**
 * Finding the qpy-multiuser daemon of this admin directory: its discovery
 * file (`multiuser.json`) and the admin key; no daemon running is a clear
 * error telling how to start it, and an admin directory this account may not
 * read is `permission denied` naming it (not "not running"). A daemon that
 * listens off loopback is reached over TLS, its certificate pinned to the
 * fingerprint it advertises there (the admin directory is the admin's alone).
 */
import { QpyError } from '../errors.js';
import type { MultiuserPaths } from '../config.js';
import { accessSync, constants } from 'node:fs';
import { pidAlive, readDiscovery, type Discovery } from '../discovery.js';
import { isPermissionError, permissionDenied } from '../accounts.js';
import { connect, type Connection } from '../transport/client.js';
import { wsSocket } from '../transport/ws-socket.js';
import { readKey } from '../transport/key.js';
import { allocatorToAdminSchema, type AdminToAllocator, type AllocatorToAdmin } from '../protocol/admin-allocator.js';

export type AdminConnection = Connection<AdminToAllocator, AllocatorToAdmin>;

const WHO = 'qpy-admin must run as the account that owns it';

/** The discovery record; PERMISSION_DENIED when this account may not read the admin directory. */
function discovery(paths: MultiuserPaths): Discovery | null {
  const d = readDiscovery(paths.discovery, WHO);
  // No record: is it that the directory cannot be listed (files in it could not be told apart from missing)?
  if (d === null) {
    try {
      accessSync(paths.dir, constants.R_OK | constants.X_OK);
    } catch (err) {
      if (isPermissionError(err)) throw permissionDenied(paths.dir, WHO);
    }
  }
  return d;
}

/** The running daemon's pid, or null. */
export function runningPid(paths: MultiuserPaths): number | null {
  const d = discovery(paths);
  return d && pidAlive(d.pid) ? d.pid : null;
}

export async function connectAdmin(paths: MultiuserPaths): Promise<AdminConnection> {
  const d = discovery(paths);
  if (!d || !pidAlive(d.pid))
    throw new QpyError('MASTER_UNREACHABLE', `qpy-multiuser is not running (directory ${paths.dir})`, 'start it with: qpy-admin start');
  try {
    return await connect<AdminToAllocator, AllocatorToAdmin>({
      url: `${d.fingerprint !== undefined ? 'wss' : 'ws'}://${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}/`,
      socket: wsSocket,
      ...(d.fingerprint !== undefined ? { pin: { pinned: [d.fingerprint] } } : {}),
      key: adminKey(paths),
      role: 'admin',
      user: 'admin',
      replySchema: allocatorToAdminSchema,
      timeoutMs: 5000,
    });
  } catch (err) {
    if (err instanceof QpyError && err.code === 'MASTER_UNREACHABLE')
      throw new QpyError('MASTER_UNREACHABLE', `qpy-multiuser (pid ${d.pid}) is not answering: ${err.message}`);
    throw err;
  }
}

function adminKey(paths: MultiuserPaths): Buffer {
  try {
    accessSync(paths.adminKey, constants.R_OK);
  } catch (err) {
    if (isPermissionError(err)) throw permissionDenied(paths.adminKey, WHO);
  }
  return readKey(paths.adminKey);
}
