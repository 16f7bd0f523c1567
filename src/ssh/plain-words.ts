/**
 * SSH failures in plain words, for `qpy why`, `qpy status` and the logs: the
 * messages of ssh2, Node's sockets and connection.ts sorted into the few
 * causes a user can act on (host key unknown or changed, permission denied,
 * connection refused, timed out, name not resolved). Pure text.
 */

const CAUSES: readonly [RegExp, string][] = [
  [/is not in known_hosts/i, 'host key unknown (not in known_hosts)'],
  [/has CHANGED/, 'host key changed'],
  [/@revoked/i, 'host key revoked'],
  [/no usable SSH key/i, 'no usable SSH key'],
  [/authentication failed|All configured authentication methods failed|permission denied/i, 'permission denied (publickey)'],
  [/ECONNREFUSED|connection refused/i, 'connection refused'],
  [/ENOTFOUND|EAI_AGAIN|EAI_NONAME|Could not resolve hostname|Name or service not known/i, 'name not resolved'],
  [/EHOSTUNREACH|ENETUNREACH|No route to host|network is unreachable/i, 'no route to host'],
  [/ETIMEDOUT|Timed out|timeout/i, 'timed out'],
  [/ECONNRESET|connection to the node was lost|connection was lost|Keepalive/i, 'connection lost'],
  [/is not supported/i, 'SSH configuration not supported'],
];

/** The cause of an SSH failure in a few words (`connection refused`), or null if it is none of the known ones. */
export function sshCause(message: string): string | null {
  for (const [re, words] of CAUSES) if (re.test(message)) return words;
  return null;
}

/** A failure as shown to users: its cause in plain words, then the message itself (`connection refused: node n1 …`). */
export function plainSshProblem(message: string): string {
  const cause = sshCause(message);
  return cause === null || message.startsWith(cause) ? message : `${cause}: ${message}`;
}

/** Did the node's port not answer at all (refused, unreachable, timed out), as opposed to an SSH-level refusal? */
export function portUnanswered(message: string): boolean {
  const cause = sshCause(message);
  return cause === 'connection refused' || cause === 'no route to host' || cause === 'timed out';
}
