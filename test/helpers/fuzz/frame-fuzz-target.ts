/**
 * What the frame fuzzer (frame-fuzz.ts) needs of a daemon under fuzz: how
 * to reach and authenticate to it, the schemas of its link, which valid
 * requests not to send, and how to tell it is still well. targets.ts makes
 * these for a master and a qpy-multiuser, pilot-hub-target.ts for a
 * master's pilot hub (TLS).
 */
import type { Schema } from '../../../src/protocol/schema.js';
import type { Role } from '../../../src/protocol/version.js';
import type { PinOptions } from '../../../src/transport/pin.js';
import type { Rng } from '../prng.js';

export interface FuzzTarget {
  /** As reports name it: `qpy-master (alice)`, `qpy-multiuser as admin`… */
  name: string;
  url(): string;
  /** For a wss:// URL: the server's certificate. */
  pin?(): PinOptions;
  key(): Buffer;
  role: Role;
  user: string;
  requestSchema: Schema<unknown>;
  replySchema: Schema<unknown>;
  /** Valid requests not to send (they would stop the daemon, block forever, or run what the fuzzer made up). */
  forbid(msg: Record<string, unknown>): boolean;
  /** A status request (no id), sent on a fresh link after each batch: must get a `status` reply (or `statusReply`). */
  status: Record<string, unknown>;
  statusReply?: string;
  /** Frames the daemon sends unasked (pushes), skipped (default: `wake`). */
  isPush?(text: string): boolean;
  /** After an accepted reply: true to drop the link, so that the next frame opens a fresh one. */
  relink?(reply: Record<string, unknown>, rng: Rng): boolean;
  alive(): boolean;
  /** The daemon's log file (scanned for internal errors; targets on one daemon share it). */
  logPath: string;
  /** Make a valid message likelier to reach deep (its own user name, real node names…), before any mutation. */
  tune?(msg: Record<string, unknown>, rng: Rng): void;
  /** Seen for every accepted reply (a master's announced job IDs). */
  onReply?(reply: Record<string, unknown>): void;
  /** After each batch: a problem with the daemon's state, or null. */
  check?(): Promise<string | null>;
}
