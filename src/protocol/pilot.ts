/**
 * The link of a Slurm pool's pilot with `reach=agent` (issue 18): the pilot
 * program on a compute node connects back to its user's master (TLS, the
 * master's certificate pinned, role `pilot`, the pool's secret as key) and
 * serves node agents over it. Requests go pilot → master, each answered;
 * the master drives the agents with pushes (no `id`). Also the pilot file,
 * which tells the pilot where its master is. Every size is bounded.
 */
import { int, intIn, literal, nameMax, obj, oneOf, optional, strMax, tagged, type Infer } from './schema.js';
import { errorReplySchema } from './user-master.js';

/** The most text one `agentOutput` field or one `agentInput` carries (longer text is split over several). */
export const MAX_AGENT_TEXT = 256 * 1024;
/** The most bytes one `readRange` asks for (the base64 of its `rangeData` stays well under a request's limit). */
export const MAX_RANGE_BYTES = 512 * 1024;
/** A pool's name and a Slurm job ID, as a pilot names them. */
export const MAX_POOL_NAME = 64;
export const MAX_SLURM_JOB_ID = 64;
/** A Slurm job ID as a pilot says it (pilotHello's `jobId`, SLURM_JOB_ID): digits only, as qpy's pilots' IDs are. */
export const SLURM_JOB_ID = /^[0-9]{1,64}$/;
/** A node's host name as a pilot says it (pilotHello's `host`): letters, digits, `.`, `-`, `_`. */
export const PILOT_HOST = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}$/;

const id = int;
const channel = intIn(1, Number.MAX_SAFE_INTEGER);
const ref = intIn(1, Number.MAX_SAFE_INTEGER);
const why = strMax(4096);

export const pilotToMasterSchema = tagged({
  /**
   * First, once per connection: who this pilot is (`pool` must be the user it authenticated as, `jobId`
   * match SLURM_JOB_ID, `host` PILOT_HOST: else BAD_REQUEST). Answered `pilotWelcome`.
   */
  pilotHello: obj({
    type: literal('pilotHello'),
    id,
    pool: nameMax(MAX_POOL_NAME),
    jobId: nameMax(MAX_SLURM_JOB_ID),
    host: nameMax(256),
  }),
  /** Text an agent wrote on its stdout or stderr. Answered `noted`. */
  agentOutput: obj({
    type: literal('agentOutput'),
    id,
    channel,
    stdout: optional(strMax(MAX_AGENT_TEXT)),
    stderr: optional(strMax(MAX_AGENT_TEXT)),
  }),
  /** An agent has gone (exited, or could not be started). Answered `noted`. */
  agentGone: obj({ type: literal('agentGone'), id, channel, why }),
  /** The answer to a `readRange` push: the bytes (base64), or why they could not be read. Answered `noted`. */
  rangeData: obj({
    type: literal('rangeData'),
    id,
    ref,
    data: optional(strMax(Math.ceil(MAX_RANGE_BYTES / 3) * 4)),
    error: optional(why),
  }),
});
export type PilotToMaster = Infer<typeof pilotToMasterSchema>;

/** The agent's shell: bash where the node has it (`auto`), or always sh. */
export const AGENT_SHELLS = ['auto', 'sh'] as const;

export const masterToPilotSchema = tagged({
  pilotWelcome: obj({ type: literal('pilotWelcome'), id }),
  noted: obj({ type: literal('noted'), id }),
  /** Push: start a fresh node agent, its streams named `channel` from now on. */
  agentOpen: obj({ type: literal('agentOpen'), channel, shell: oneOf(AGENT_SHELLS) }),
  /** Push: text for the agent's stdin. */
  agentInput: obj({ type: literal('agentInput'), channel, text: strMax(MAX_AGENT_TEXT) }),
  /** Push: close the agent's stdin (it exits once its jobs have ended; they go on). */
  agentEnd: obj({ type: literal('agentEnd'), channel }),
  /** Push: read up to `max` bytes of the file at `path` from `offset`; answered by a `rangeData` request. */
  readRange: obj({
    type: literal('readRange'),
    ref,
    path: nameMax(4096),
    offset: intIn(0, Number.MAX_SAFE_INTEGER),
    max: intIn(0, MAX_RANGE_BYTES),
  }),
  /** Push: the pool lets this pilot go: it exits (0), and its Slurm job ends. */
  pilotEnd: obj({ type: literal('pilotEnd') }),
  error: errorReplySchema,
});
/** Every frame a pilot may receive: replies and pushes. */
export type MasterToPilot = Infer<typeof masterToPilotSchema>;

/** The pilot file: where the pilot's master listens, its certificate, the pool and its secret (JSON, mode 0600). */
export const pilotFileSchema = obj({
  version: literal(1),
  host: nameMax(1024),
  port: intIn(1, 65535),
  /** SHA-256 of the master's pilot certificate, `4B:EB:…` (transport/pin.ts). */
  fingerprint: strMax(128),
  pool: nameMax(MAX_POOL_NAME),
  /** The pool's key: 32 bytes, 64 hex digits. */
  secret: strMax(128),
});
export type PilotFile = Infer<typeof pilotFileSchema>;
