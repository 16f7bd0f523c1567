/**
 * What every part of the qpy-multiuser daemon is handed: its paths, the
 * allocator state and store, its log and clock, the pending invitations, and
 * the daemon's own actions (wake masters, probe nodes, close a user's
 * connections, rotate the certificate). Declared here, apart from the
 * modules that use it (handlers.ts, auth.ts), so that they do not import
 * each other; daemon.ts builds it.
 */
import type { MultiuserPaths } from '../../config.js';
import type { QpyError } from '../../errors.js';
import type { AllocatorState } from '../../allocator/state.js';
import type { AllocatorStore } from '../../store/allocator-store.js';
import type { Log } from '../shared/log.js';
import type { RotationResult } from './certificate-rotation.js';
import type { WebSetting } from './web-file.js';
import type { PoolConfig } from '../../allocator/pool-line.js';

export interface MultiuserContext {
  paths: MultiuserPaths;
  state: AllocatorState;
  store: AllocatorStore;
  log: Log;
  now(): number;
  /** Files not in force because they are wrong, by file: shown by status. */
  problems: Map<string, string>;
  /** Pending invitations by user. */
  invites: Map<string, { key: Buffer; expiresAt: number }>;
  /** Where users' masters reach this daemon (for invitations), and its TLS certificate's fingerprint (null: plain, on loopback). */
  listen: { host: string; port: number; fingerprint: string | null };
  finish(): void;
  /** Tell the masters with queued jobs that room may have freed up (coalesced). */
  wake(): void;
  /** Nodes whose cores or memory come from their probe, not the nodes file. */
  capacity: Map<string, { cores: boolean; memory: boolean }>;
  /** Probe nodes now, in the background. */
  probe(names: string[]): void;
  /** Users the administrator removed (so a refusal can say so after they are forgotten). */
  removedUsers: Set<string>;
  /** Close every connection of `user`'s masters, sending `err` first; how many were closed. */
  disconnectMasters(user: string, err: QpyError): number;
  /** The Slurm pools in force (read at start: a reload that changes them says so in `problems`). */
  pools: readonly PoolConfig[];
  /** Replace the TLS certificate (certificate-rotation.ts). */
  rotateCertificate?(): Promise<RotationResult>;
  /** Serve the cluster page as `setting` says (web-control.ts): its URL, or null when off. */
  setWeb?(setting: WebSetting): Promise<string | null>;
}
