/**
 * Every error code qpy can put on the wire or print. Codes are stable: tests
 * and scripts assert them, so never rename one; add new ones instead.
 */
export const ERROR_CODES = [
  'BAD_FRAME', // not JSON, too big, or not a known message
  'BAD_REQUEST', // a known message with invalid content
  'UNAUTHENTICATED', // handshake missing, late or wrong
  'VERSION_MISMATCH', // peer speaks another protocol version
  'NOT_FOUND', // no job matched
  'INVALID_ARGUMENT', // a user-supplied value is wrong
  'INVALID_EXPRESSION', // attribute expression does not parse
  'BAD_EXPR', // attribute expression nested too deep (parentheses and "not", MAX_EXPR_DEPTH)
  'UNSATISFIABLE', // no node could ever run this job
  'NODES_FILE', // the nodes file is wrong
  'RULES_FILE', // the distribution_rules file is wrong
  'USERS_FILE', // the allowed_users file is wrong
  'ILLEGAL_TRANSITION', // a job is not in a state that allows this
  'MASTER_UNREACHABLE', // the CLI cannot reach or start the master
  'ALREADY_RUNNING', // a second daemon for the same directory
  'STORE', // the database failed
  'LAUNCH_FAILED', // a job could not be started on its node
  'SSH_CONFIG', // a node's SSH settings cannot be resolved or are not supported
  'SSH_AUTH', // no usable key, or the node refused every key
  'SSH_CONNECT', // the node cannot be reached
  'HOST_KEY', // a node's host key is unknown, changed or revoked
  'NODE_UNREACHABLE', // a node cannot be reached now: nothing was sent to it
  'NODE_LINK_LOST', // the link to a node died with a request in flight: its effect is unknown
  'NODE_AGENT', // the node agent could not start (setsid missing, run directory not writable)
  'NOT_ALLOWED', // the user is not (or no longer) allowed by the administrator
  'ALLOCATOR_UNREACHABLE', // the master cannot reach qpy-multiuser now
  'SHUTTING_DOWN', // the daemon is finishing
  'PERMISSION_DENIED', // this account may not read or write a file or directory qpy needs (the message names it)
  'CERTIFICATE_MISMATCH', // a qpy-multiuser on the network presented a TLS certificate other than the pinned one
  'INTERNAL', // a bug: reported, never fatal to a daemon
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
