/**
 * Finding the qpy-multiuser daemon of this admin directory: its discovery
 * file (`multiuser.json`) and the admin key; no daemon running is a clear
 * error telling how to start it.
 */
import { QpyError } from '../errors.js';
import type { MultiuserPaths } from '../config.js';
import { pidAlive, readDiscovery } from '../discovery.js';
import { connect, type Connection } from '../transport/client.js';
import { wsSocket } from '../transport/ws-socket.js';
import { readKey } from '../transport/key.js';
import { allocatorToAdminSchema, type AdminToAllocator, type AllocatorToAdmin } from '../protocol/admin-allocator.js';

export type AdminConnection = Connection<AdminToAllocator, AllocatorToAdmin>;

/** The running daemon's pid, or null. */
export function runningPid(paths: MultiuserPaths): number | null {
  const d = readDiscovery(paths.discovery);
  return d && pidAlive(d.pid) ? d.pid : null;
}

export async function connectAdmin(paths: MultiuserPaths): Promise<AdminConnection> {
  const d = readDiscovery(paths.discovery);
  if (!d || !pidAlive(d.pid)) throw new QpyError('MASTER_UNREACHABLE', `qpy-multiuser is not running (directory ${paths.dir})`, 'start it with: qpy-admin start');
  try {
    return await connect<AdminToAllocator, AllocatorToAdmin>({
      url: `ws://${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}/`,
      socket: wsSocket,
      key: readKey(paths.adminKey),
      role: 'admin',
      user: 'admin',
      replySchema: allocatorToAdminSchema,
      timeoutMs: 5000,
    });
  } catch (err) {
    if (err instanceof QpyError && err.code === 'MASTER_UNREACHABLE') throw new QpyError('MASTER_UNREACHABLE', `qpy-multiuser (pid ${d.pid}) is not answering: ${err.message}`);
    throw err;
  }
}
