/**
 * Protocol version and roles. Bump PROTOCOL_VERSION whenever a message shape
 * changes incompatibly; peers with another version are refused with a clear
 * VERSION_MISMATCH error telling the user what to restart.
 */
export const PROTOCOL_VERSION = 6;

/** The release, as in package.json (a unit test keeps them equal); `qpy --version` prints it. */
export const QPY_VERSION = '0.1.0';

/** Who is on the other end of a link. */
export const ROLES = ['user', 'master', 'admin', 'join', 'pilot'] as const;
export type Role = (typeof ROLES)[number];

/** Largest frame a daemon accepts from a client (requests are small). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Largest frame a client accepts from a daemon (a `check` of 100k jobs is big). */
export const MAX_REPLY_BYTES = 512 * 1024 * 1024;
