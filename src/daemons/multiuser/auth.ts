/**
 * Who may connect to qpy-multiuser, and with which key: the admin with the
 * admin key; a user's master with that user's key, if the user is allowed
 * (or removed but still holding slots, so its jobs can end); a new user with
 * its invitation code. What each refused peer is told: a user not allowed,
 * or allowed but without a key, hears so before any key is checked (who may
 * use the cluster is no secret); a wrong key or code is refused as just that.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QpyError } from '../../errors.js';
import { USER_NAME } from '../../allocator/users-file.js';
import { readKey } from '../../transport/key.js';
import { readAllowedUsers } from './config.js';
import type { MultiuserContext } from './context.js';

export const userKeyPath = (ctx: MultiuserContext, user: string): string => join(ctx.paths.keys, `${user}.key`);

/** Where masters reach the daemon, as `qpy join` takes it. */
export const hostPort = (ctx: MultiuserContext): string =>
  `${ctx.listen.host.includes(':') ? `[${ctx.listen.host}]` : ctx.listen.host}:${ctx.listen.port}`;

/**
 * Why `user`'s master may not connect, or null if it may: allowed now, or
 * removed but still holding slots (so its running jobs can end). Not a
 * secret, so said before the key is proven.
 */
export function notAllowed(ctx: MultiuserContext, user: string): QpyError | null {
  const known = ctx.state.userByName.get(user);
  if (known !== undefined && known.slots.size > 0) return null;
  let allowed: boolean;
  try {
    allowed = readAllowedUsers(ctx.paths.allowedUsers).includes(user);
  } catch (err) {
    ctx.log(`allowed_users: ${(err as Error).message}`);
    allowed = known !== undefined && !known.removed;
  }
  if (allowed) return null;
  const why = known?.removed || ctx.removedUsers.has(user) ? 'removed by the administrator' : 'not in allowed_users';
  return new QpyError('NOT_ALLOWED', `user ${user} is not allowed to use this cluster (${why})`, 'ask the qpy administrator');
}

/**
 * The key a peer claiming (role, user) must prove; null (refused as a wrong
 * key) or a QpyError saying why not. Never throws.
 */
export function keyFor(ctx: MultiuserContext, role: string, user: string): Buffer | null | QpyError {
  try {
    if (role === 'admin') return readKey(ctx.paths.adminKey);
    if (!USER_NAME.test(user)) return null;
    if (role === 'master') {
      const refusal = notAllowed(ctx, user);
      if (refusal) return refusal;
      if (!existsSync(userKeyPath(ctx, user))) {
        return new QpyError(
          'UNAUTHENTICATED',
          `user ${user} has no key on this cluster`,
          `ask the qpy administrator to run: qpy-admin users add ${user}; then run qpy join with the code`,
        );
      }
      return readKey(userKeyPath(ctx, user));
    }
    if (role === 'join') {
      const invite = ctx.invites.get(user);
      return invite !== undefined && invite.expiresAt > ctx.now() ? invite.key : null;
    }
  } catch (err) {
    ctx.log(`key of ${role} ${user}: ${(err as Error).message}`);
  }
  return null;
}

/** What a peer whose proof fails is told. */
export function wrongKey(ctx: MultiuserContext, role: string, user: string): QpyError {
  if (role === 'join')
    return new QpyError('UNAUTHENTICATED', 'the invitation code is wrong, used or expired', 'ask your administrator for a new one');
  if (role === 'admin')
    return new QpyError(
      'UNAUTHENTICATED',
      'authentication failed: wrong admin key',
      'qpy-admin must run as the account that owns the admin directory',
    );
  return new QpyError(
    'UNAUTHENTICATED',
    `authentication failed: wrong key for user ${user}`,
    `if the administrator invited you again, run qpy join ${hostPort(ctx)} and give the new code`,
  );
}
