/**
 * The link between a master and an allocator (embedded in the master by
 * default, or the global `qpy-multiuser` daemon). Requests go master →
 * allocator and each gets exactly one reply.
 */
import {
  arrayOf,
  bool,
  int,
  intIn,
  literal,
  nameMax,
  nullable,
  numIn,
  obj,
  oneOf,
  optional,
  strMax,
  tagged,
  type Infer,
} from './schema.js';
import { clusterLimitsSchema, clusterStatusSchema } from './cluster.js';
import { errorReplySchema } from './user-master.js';

const id = int;
const user = strMax(256);

/**
 * Bounds on every number a master reports, refused by the parser (and
 * checked again by the allocator core, which the embedded allocator calls
 * without parsing): they keep every sum the allocator makes exact and every
 * status document valid. Terabyte-scale memory is fine.
 */
export const MAX_SLOT_CORES = 1_000_000;
export const MAX_SLOT_MEM_GB = 1_000_000;
export const MAX_QUEUE_SIZE = 1_000_000_000;
/** The most GPUs one job may ask for, and the highest device index a node may have (nodes-file.ts MAX_NODE_GPUS). */
export const MAX_SLOT_GPUS = 1024;
const cores = intIn(1, MAX_SLOT_CORES);
const memGB = numIn(0, MAX_SLOT_MEM_GB);
const jobId = intIn(0, Number.MAX_SAFE_INTEGER);
const queueSize = intIn(0, MAX_QUEUE_SIZE);
const node = nameMax(256);
/** GPU device indices on a node (CUDA_VISIBLE_DEVICES's numbers), distinct. */
const gpuIndices = arrayOf(intIn(0, MAX_SLOT_GPUS - 1), MAX_SLOT_GPUS);
/** A TLS certificate's SHA-256 fingerprint, `4B:EB:…:6D` (transport/pin.ts). */
export const fingerprintSchema = strMax(128);

/** A granted core/memory slot that a job holds on a node, and the GPUs it holds there (absent: none). */
export const slotSchema = obj({ jobId, node, cores, memGB, gpus: optional(gpuIndices) });
export type Slot = Infer<typeof slotSchema>;

/** What a job needs, as the allocator sees it. */
export const demandSchema = obj({
  cores,
  memGB,
  attrs: nullable(strMax(4096)),
  /** Its time limit in seconds; absent: none. */
  time: optional(int),
  /** Whether `memGB` limits its resident memory. */
  memLimit: optional(bool),
  /** How many GPUs, distinct devices of one node (`sub -g`); absent: none. */
  gpus: optional(intIn(0, MAX_SLOT_GPUS)),
});
export type Demand = Infer<typeof demandSchema>;

export const masterToAllocatorSchema = tagged({
  /** Sent on (re)connect: the slots the master's running jobs hold. */
  register: obj({ type: literal('register'), id, user, running: arrayOf(slotSchema, 1_000_000), queueSize, gpuQueue: optional(queueSize) }),
  /** Ask for a slot for one queued job. */
  /** `gpuQueue`: how many of the queued jobs ask for GPUs (counting this one if it does); absent: none (it lends its GPU share). */
  request: obj({ type: literal('request'), id, user, jobId, demand: demandSchema, queueSize, gpuQueue: optional(queueSize) }),
  /**
   * A job ended: give its slot back. `ended`: how the run ended when it did
   * (its final status word: `done`, `failed`, `killed`, `node_failed`, …);
   * absent when the slot comes back unused (the job never started). Only
   * qpy-multiuser's ledger keeps it, to count failed jobs.
   */
  release: obj({ type: literal('release'), id, user, jobId, queueSize, ended: optional(nameMax(32)), gpuQueue: optional(queueSize) }),
  /** Could any node ever run this? Asked at submission, so impossible jobs are refused at once. */
  feasible: obj({ type: literal('feasible'), id, user, demand: demandSchema }),
  status: obj({ type: literal('status'), id, user }),
  /**
   * The master cannot reach `node` (reachable false) or can again (true).
   * The user gets no grants on a node it cannot reach; others are unaffected.
   * `reason`: why it cannot (the SSH error in plain words), shown by status.
   */
  nodeLink: obj({ type: literal('nodeLink'), id, user, node, reachable: bool, reason: optional(strMax(1024)) }),
  /** The master has stored the fingerprint of a `certificate` push (answered `noted`): the daemon may switch to it. */
  certificateStored: obj({ type: literal('certificateStored'), id, user, fingerprint: fingerprintSchema }),
});
export type MasterToAllocator = Infer<typeof masterToAllocatorSchema>;

export const REFUSALS = ['no_room', 'no_node', 'over_limits', 'no_gpu_room'] as const;

export const allocatorToMasterSchema = tagged({
  /**
   * `refused`: the reported slots qpy-multiuser did not count, each with
   * a short sentence (never granted to this user, already released, or
   * reported with another node, cores or memory than granted). Empty when
   * every reported slot was kept, and always empty from the embedded
   * allocator, which trusts its one master.
   */
  registered: obj({ type: literal('registered'), id, refused: arrayOf(obj({ jobId: int, reason: strMax(4096) }), 1_000_000) }),
  /**
   * `gpus`: the device indices the job is given on the node (absent: it asked
   * for none); `gpuUuids`: their UUIDs in the same order, where the node's
   * probe knows every one.
   */
  granted: obj({
    type: literal('granted'),
    id,
    jobId: int,
    node: strMax(256),
    address: strMax(1024),
    gpus: optional(gpuIndices),
    gpuUuids: optional(arrayOf(strMax(256), MAX_SLOT_GPUS)),
  }),
  /**
   * no_room: the user's share or the cluster is full now; no_gpu_room: the
   * user's share of the GPUs, or every GPU, is in use now; no_node: no node
   * fits this job now; over_limits: the administrator's limits refuse it
   * (`problem` says how: it was queued before they changed).
   */
  refused: obj({ type: literal('refused'), id, jobId: int, reason: oneOf(REFUSALS), problem: optional(strMax(1024)) }),
  released: obj({ type: literal('released'), id, found: literal(true) }),
  /** `limits`: the administrator's, which the master applies to the job (absent: none). */
  feasibility: obj({ type: literal('feasibility'), id, problem: nullable(strMax(4096)), limits: optional(clusterLimitsSchema) }),
  status: obj({ type: literal('status'), id, status: clusterStatusSchema }),
  noted: obj({ type: literal('noted'), id }),
  /**
   * Pushed (no id) by qpy-multiuser when cores or memory may have become
   * free for this user (another user's job ended, a node was added…): the
   * master runs a dispatch pass.
   */
  wake: obj({ type: literal('wake') }),
  /**
   * Pushed (no id) by qpy-multiuser when the administrator rotates its
   * TLS certificate: the master pins `fingerprint` from now on (keeping the
   * old pin until it has seen the new certificate), then says
   * `certificateStored`.
   */
  certificate: obj({ type: literal('certificate'), fingerprint: fingerprintSchema }),
  /**
   * Pushed (no id) by qpy-multiuser when a node is gone for good: the Slurm
   * pilot holding it ended (issue 18). The master's running jobs there
   * become node_failed at once, what is left of them is killed if the host
   * still answers, and `--retry` applies.
   */
  nodeGone: obj({ type: literal('nodeGone'), node, reason: strMax(1024) }),
  error: errorReplySchema,
});
/** Every frame a master may receive: the replies, and the `wake`, `certificate` and `nodeGone` pushes. */
export type AllocatorFrame = Infer<typeof allocatorToMasterSchema>;
/** The reply to a request. */
export type AllocatorToMaster = Exclude<AllocatorFrame, { type: 'wake' | 'certificate' | 'nodeGone' }>;
