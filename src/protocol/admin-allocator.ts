/**
 * The link between the administrator's CLI (`qpy-admin`, role `admin`, the
 * admin key) and the `qpy-multiuser` daemon; and the one-request link a new
 * user's `qpy join` opens with its invitation code (role `join`).
 */
import { arrayOf, bool, int, intIn, literal, nullable, num, obj, oneOf, optional, strMax, tagged, type Infer } from './schema.js';
import { clusterStatusSchema } from './cluster.js';
import { errorReplySchema } from './user-master.js';
import { fingerprintSchema } from './master-allocator.js';
import { usageReportSchema } from './usage-report.js';

/** A point in time as the report takes it: whole ms since the epoch, within what a Date can hold. */
const moment = intIn(0, 8_640_000_000_000_000);

const id = int;
const name = strMax(256);

export const adminToAllocatorSchema = tagged({
  status: obj({ type: literal('status'), id }),
  /** The daemon's counters, nodes and users with their slots, as text (§6.5). */
  variables: obj({ type: literal('variables'), id }),
  /** Read the nodes file again and apply it by diff. */
  reloadNodes: obj({ type: literal('reloadNodes'), id }),
  /** Read distribution_rules again and redistribute. */
  distribute: obj({ type: literal('distribute'), id }),
  /** Read the limits file again; answered with the limits now in force, in words. */
  reloadLimits: obj({ type: literal('reloadLimits'), id }),
  /** Allow a user (allowed_users, a new key of its own: any old one stops working) and make a one-time invitation code for it. */
  addUser: obj({ type: literal('addUser'), id, name }),
  removeUser: obj({ type: literal('removeUser'), id, name }),
  drain: obj({ type: literal('drain'), id, node: name }),
  resume: obj({ type: literal('resume'), id, node: name }),
  finish: obj({ type: literal('finish'), id }),
  /** Make a new TLS key and certificate, tell the connected masters its fingerprint, then serve it. */
  rotateCertificate: obj({ type: literal('rotateCertificate'), id }),
  /** Each user's use of the cluster over [since, until) (ms since the epoch; since null: from the oldest row kept; until null: now). */
  report: obj({ type: literal('report'), id, since: nullable(moment), until: nullable(moment) }),
  /** Serve the cluster page or stop it: `setting` is what the `web` file holds, `on [ADDRESS:PORT]` or `off`. */
  web: obj({ type: literal('web'), id, setting: strMax(1100) }),
});
export type AdminToAllocator = Infer<typeof adminToAllocatorSchema>;

export const allocatorToAdminSchema = tagged({
  status: obj({ type: literal('status'), id, status: clusterStatusSchema }),
  text: obj({ type: literal('text'), id, text: strMax(64 * 1024 * 1024) }),
  nodesReloaded: obj({ type: literal('nodesReloaded'), id, added: arrayOf(name), removed: arrayOf(name), changed: arrayOf(name) }),
  distributed: obj({ type: literal('distributed'), id }),
  /** `replaced`: the user had a key, now replaced (the old one no longer works); `closed`: its master connections closed. */
  /** `fingerprint`: the daemon's TLS certificate, when it listens off loopback (the join code then carries it). */
  userAdded: obj({
    type: literal('userAdded'),
    id,
    name,
    code: strMax(128),
    expiresAt: num,
    address: strMax(1024),
    port: int,
    replaced: optional(bool),
    closed: optional(int),
    fingerprint: optional(fingerprintSchema),
  }),
  userRemoved: obj({ type: literal('userRemoved'), id, name, result: oneOf(['forgotten', 'draining', 'unknown'] as const) }),
  done: obj({ type: literal('done'), id, message: strMax(4096) }),
  finishing: obj({ type: literal('finishing'), id, pid: int }),
  /**
   * The new certificate is served. `masters`: master connections told;
   * `confirmed`: those that stored it in time (the others must join again if
   * they did not); `invitations`: pending codes that carry the old
   * fingerprint (invite those users again).
   */
  certificateRotated: obj({
    type: literal('certificateRotated'),
    id,
    fingerprint: fingerprintSchema,
    previous: fingerprintSchema,
    masters: int,
    confirmed: int,
    invitations: int,
  }),
  report: obj({ type: literal('report'), id, report: usageReportSchema }),
  /** The cluster page is served at `url` (http://, or https:// off loopback), or off (null). */
  webState: obj({ type: literal('webState'), id, url: nullable(strMax(2048)) }),
  error: errorReplySchema,
});
export type AllocatorToAdmin = Infer<typeof allocatorToAdminSchema>;

/** `qpy join`: after authenticating with the invitation code, ask for the user's key. */
export const joinToAllocatorSchema = tagged({
  join: obj({ type: literal('join'), id }),
});
export type JoinToAllocator = Infer<typeof joinToAllocatorSchema>;

export const allocatorToJoinSchema = tagged({
  /** The user's key, AES-256-GCM under a key derived from the code (see transport/invite.ts); hex. */
  /** `socket`: the daemon's Unix domain socket, which masters on its own host use instead of the TCP port. */
  joined: obj({
    type: literal('joined'),
    id,
    user: name,
    iv: strMax(64),
    data: strMax(256),
    tag: strMax(64),
    socket: optional(strMax(4096)),
  }),
  error: errorReplySchema,
});
export type AllocatorToJoin = Infer<typeof allocatorToJoinSchema>;
