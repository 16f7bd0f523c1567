/**
 * What the qpy-multiuser daemon does with each request, by the role of the
 * peer that sent it: masters (their user's key) ask for slots; the admin
 * (the admin key) changes nodes, users and rules; a new user (an invitation
 * code) fetches its key. The allocator core decides; this module checks who
 * may do what, applies the admin's files, and persists every change before
 * the reply goes out.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { QpyError } from '../../errors.js';
import { handleMasterMessage } from '../../allocator/handle.js';
import { buildStatus } from '../../allocator/status.js';
import { formatVariables } from '../../allocator/variables.js';
import { reloadNodes, removeUser, setDrained } from '../../allocator/admin.js';
import { setRules } from '../../allocator/state.js';
import { USER_NAME } from '../../allocator/users-file.js';
import type { AllocatorToMaster, MasterToAllocator } from '../../protocol/master-allocator.js';
import type { AdminToAllocator, AllocatorToAdmin, AllocatorToJoin, JoinToAllocator } from '../../protocol/admin-allocator.js';
import type { ClusterStatus } from '../../protocol/cluster.js';
import { readKey, replaceKey } from '../../transport/key.js';
import { inviteKey, newInviteCode, sealUserKey } from '../../transport/invite.js';
import { poolsOf, samePools } from './pools.js';
import { capacityFromProbes, editAllowedUsersFile, readLimits, readNodes, readRules } from './config.js';
import { describeLimits } from '../../allocator/limits-file.js';
import { hostPort, notAllowed, userKeyPath } from './auth.js';
import type { Peer } from '../../transport/server.js';
import type { MultiuserContext } from './context.js';
import { makeReport, recordSlotChanges, slotsBefore } from './ledger.js';
import { parseWebSetting } from './web-file.js';

/** How long an invitation code stays valid. */
export const INVITE_TTL_MS = 24 * 3600 * 1000;

/** Write a user's registration and slots to the store (or forget it and its key); the caller commits. */
export function persistUser(ctx: MultiuserContext, name: string): void {
  const u = ctx.state.userByName.get(name);
  if (u === undefined) {
    ctx.store.deleteUser(name);
    try {
      unlinkSync(userKeyPath(ctx, name)); // forgotten: its key goes too, unless it was allowed again
    } catch {
      /* none */
    }
    return;
  }
  ctx.store.putUser(name, u.removed);
  ctx.store.replaceSlots(
    name,
    [...u.slots.values()].map((s) => ({ user: name, jobId: s.jobId, node: s.node, cores: s.cores, memGB: s.memGB, gpus: s.gpus })),
  );
}

/** A master's request, in its own user's name only. */
export async function handleMaster(ctx: MultiuserContext, msg: MasterToAllocator, peerUser: string): Promise<AllocatorToMaster> {
  if (msg.user !== peerUser) throw new QpyError('UNAUTHENTICATED', `this connection speaks for ${peerUser}, not ${msg.user}`);
  if (msg.type === 'register') {
    const refusal = notAllowed(ctx, msg.user);
    if (refusal) throw refusal;
  }
  // A master that reaches a node the probes find down: probe it now rather than at the next retry.
  if (msg.type === 'nodeLink' && msg.reachable && ctx.state.nodeByName.get(msg.node)?.up === false) ctx.probe([msg.node]);
  const before = slotsBefore(ctx.state, msg);
  const reply = handleMasterMessage(ctx.state, msg, { trustRegistrations: false });
  if (before !== null)
    recordSlotChanges(ctx, before, msg.type === 'register' ? 'register' : 'release', msg.type === 'release' ? (msg.ended ?? null) : null);
  if (reply.type === 'registered' && reply.refused.length > 0)
    ctx.log(
      `register of ${msg.user}: refused ${reply.refused.length} reported slot(s), never counted: jobs ${reply.refused
        .slice(0, 20)
        .map((r) => r.jobId)
        .join(' ')}${reply.refused.length > 20 ? ' …' : ''} (${reply.refused[0]!.reason})`,
    );
  if (msg.type === 'status' && reply.type === 'status') reply.status = withProblems(ctx, reply.status);
  if (msg.type === 'register' || msg.type === 'release') {
    persistUser(ctx, msg.user);
    ctx.wake();
  } else if (msg.type === 'request' && reply.type === 'granted') {
    const slot = ctx.state.userByName.get(msg.user)?.slots.get(msg.jobId);
    if (slot)
      ctx.store.putSlot({ user: msg.user, jobId: slot.jobId, node: slot.node, cores: slot.cores, memGB: slot.memGB, gpus: slot.gpus });
  }
  await ctx.store.commit();
  return reply;
}

function withProblems(ctx: MultiuserContext, status: ClusterStatus): ClusterStatus {
  return { ...status, warnings: [...[...ctx.problems.values()], ...status.warnings] };
}

/** Apply a file read: on success its text becomes the last good copy; on failure the problem is kept and reported. */
function fileResult<T>(ctx: MultiuserContext, key: string, read: () => T & { text: string }): T & { text: string } {
  try {
    const r = read();
    ctx.problems.delete(key);
    ctx.store.setMeta(`last_good_${key}`, r.text);
    return r;
  } catch (err) {
    if (err instanceof QpyError) {
      ctx.problems.set(key, `${err.message} (the last good ${key} file stays in force)`);
      ctx.log(`${key}: ${err.message}`);
    }
    throw err;
  }
}

/** An admin command. */
export async function handleAdmin(ctx: MultiuserContext, msg: AdminToAllocator): Promise<AllocatorToAdmin> {
  const reply = await adminCommand(ctx, msg);
  if (msg.type !== 'status' && msg.type !== 'variables' && msg.type !== 'report' && msg.type !== 'web') ctx.wake();
  return reply;
}

async function adminCommand(ctx: MultiuserContext, msg: AdminToAllocator): Promise<AllocatorToAdmin> {
  const { state, store } = ctx;
  switch (msg.type) {
    case 'status':
      return { type: 'status', id: msg.id, status: withProblems(ctx, buildStatus(state)) };
    case 'variables':
      return { type: 'text', id: msg.id, text: formatVariables(state) };
    case 'reloadNodes': {
      const { specs, text } = fileResult(ctx, 'nodes', () => readNodes(ctx.paths.nodes));
      ctx.capacity = capacityFromProbes(text);
      // A node that stays keeps what its probe found until the next probe.
      const kept = specs.map((spec) => {
        const old = state.nodeByName.get(spec.name);
        const probed = ctx.capacity.get(spec.name);
        if (!old || !probed) return spec;
        return { ...spec, cores: probed.cores ? old.spec.cores : spec.cores, memGB: probed.memory ? old.spec.memGB : spec.memGB };
      });
      const diff = reloadNodes(state, kept);
      if (samePools(poolsOf(text), ctx.pools)) ctx.problems.delete('pools');
      else {
        ctx.problems.set('pools', 'the pool lines of the nodes file changed: they take effect when qpy-multiuser restarts');
        ctx.log('nodes reloaded: the pool lines changed; the pools in force stay until qpy-multiuser restarts');
      }
      ctx.probe([...diff.added, ...diff.changed]);
      for (const name of diff.removed) store.setDrained(name, false);
      await store.commit();
      ctx.log(
        `nodes reloaded: added ${diff.added.join(' ') || '-'}, removed ${diff.removed.join(' ') || '-'}, changed ${diff.changed.join(' ') || '-'}`,
      );
      return { type: 'nodesReloaded', id: msg.id, ...diff };
    }
    case 'distribute': {
      const { rules } = fileResult(ctx, 'rules', () => readRules(ctx.paths.rules));
      setRules(state, rules);
      await store.commit();
      if (state.distributionError !== null) throw new QpyError('RULES_FILE', `the rules cannot be applied: ${state.distributionError}`);
      return { type: 'distributed', id: msg.id };
    }
    case 'reloadLimits': {
      const { limits } = fileResult(ctx, 'limits', () => readLimits(ctx.paths.limits));
      state.limits = limits;
      await store.commit();
      ctx.log(`limits reloaded: ${describeLimits(limits)}`);
      return { type: 'text', id: msg.id, text: `Limits in force: ${describeLimits(limits)}.\n` };
    }
    case 'addUser': {
      if (!USER_NAME.test(msg.name)) throw new QpyError('INVALID_ARGUMENT', `"${msg.name}" is not a valid user name`);
      editAllowedUsersFile(ctx.paths.allowedUsers, msg.name, true);
      // Always a new key: a user invited again may have had the old one (or the old code) stolen.
      // Its masters are cut off now; they connect again once the user joins with the new code.
      const keyPath = userKeyPath(ctx, msg.name);
      const replaced = existsSync(keyPath);
      replaceKey(keyPath);
      const closed = replaced
        ? ctx.disconnectMasters(
            msg.name,
            new QpyError(
              'UNAUTHENTICATED',
              `the administrator invited ${msg.name} again: this key no longer works`,
              `run qpy join ${hostPort(ctx)} and give the new code`,
            ),
          )
        : 0;
      ctx.removedUsers.delete(msg.name);
      store.setMeta(`removed_user:${msg.name}`, '');
      const known = state.userByName.get(msg.name);
      if (known?.removed) {
        known.removed = false;
        store.putUser(msg.name, false);
      }
      const code = newInviteCode();
      const invite = { key: inviteKey(code, msg.name), expiresAt: ctx.now() + INVITE_TTL_MS };
      ctx.invites.set(msg.name, invite);
      store.putInvite({ user: msg.name, ...invite });
      await store.commit();
      ctx.log(
        `user ${msg.name} ${
          replaced
            ? `invited again: new key (the old one no longer works; ${closed} master connection${closed === 1 ? '' : 's'} closed)`
            : 'allowed'
        }; invitation valid until ${new Date(invite.expiresAt).toISOString()}`,
      );
      return {
        type: 'userAdded',
        id: msg.id,
        name: msg.name,
        code,
        expiresAt: invite.expiresAt,
        address: ctx.listen.host,
        port: ctx.listen.port,
        replaced,
        closed,
        ...(ctx.listen.fingerprint !== null ? { fingerprint: ctx.listen.fingerprint } : {}),
      };
    }
    case 'removeUser': {
      editAllowedUsersFile(ctx.paths.allowedUsers, msg.name, false);
      ctx.invites.delete(msg.name);
      store.deleteInvite(msg.name);
      const result = removeUser(state, msg.name);
      ctx.removedUsers.add(msg.name);
      store.setMeta(`removed_user:${msg.name}`, new Date(ctx.now()).toISOString());
      persistUser(ctx, msg.name);
      await store.commit();
      // A user left holding nothing is told at once, so its next `qpy sub` is refused, not queued for nothing.
      const closed =
        result === 'draining'
          ? 0
          : ctx.disconnectMasters(
              msg.name,
              new QpyError(
                'NOT_ALLOWED',
                `user ${msg.name} is not allowed to use this cluster (removed by the administrator)`,
                'ask the qpy administrator',
              ),
            );
      ctx.log(`user ${msg.name} removed (${result}${closed > 0 ? `; ${closed} master connection(s) closed` : ''})`);
      return { type: 'userRemoved', id: msg.id, name: msg.name, result };
    }
    case 'drain':
    case 'resume': {
      const drained = msg.type === 'drain';
      if (!setDrained(state, msg.node, drained))
        throw new QpyError('NOT_FOUND', `no node ${msg.node}`, 'see the nodes with: qpy-admin status');
      store.setDrained(msg.node, drained);
      await store.commit();
      ctx.log(`node ${msg.node} ${drained ? 'drained' : 'resumed'}`);
      return {
        type: 'done',
        id: msg.id,
        message: drained ? `Node ${msg.node} drained: it takes no new jobs; its running jobs go on.` : `Node ${msg.node} takes jobs again.`,
      };
    }
    case 'report':
      return { type: 'report', id: msg.id, report: await makeReport(ctx, msg.since, msg.until) };
    case 'web': {
      if (ctx.setWeb === undefined) throw new QpyError('INTERNAL', 'this daemon cannot serve the cluster page');
      return { type: 'webState', id: msg.id, url: await ctx.setWeb(parseWebSetting(msg.setting)) };
    }
    case 'finish':
      setImmediate(() => ctx.finish());
      return { type: 'finishing', id: msg.id, pid: process.pid };
    case 'rotateCertificate': {
      if (ctx.rotateCertificate === undefined) throw new QpyError('INTERNAL', 'this daemon cannot rotate its certificate');
      const r = await ctx.rotateCertificate();
      // Codes made before carry the old fingerprint: `qpy join` with one is refused (CERTIFICATE_MISMATCH).
      const invitations = [...ctx.invites.values()].filter((i) => i.expiresAt > ctx.now()).length;
      return { type: 'certificateRotated', id: msg.id, ...r, invitations };
    }
  }
}

/** `qpy join`: the invitation is used up; the user's key goes back sealed with it. The log names who joined. */
export async function handleJoin(ctx: MultiuserContext, msg: JoinToAllocator, peer: Peer): Promise<AllocatorToJoin> {
  const user = peer.user;
  const invite = ctx.invites.get(user);
  if (invite === undefined || invite.expiresAt <= ctx.now())
    throw new QpyError('UNAUTHENTICATED', 'the invitation has expired or was used');
  const userKey = readKey(userKeyPath(ctx, user));
  ctx.invites.delete(user);
  ctx.store.deleteInvite(user);
  const who = peer.describe();
  await ctx.store.commit();
  ctx.log(`user ${user} joined from ${await who}`);
  return { type: 'joined', id: msg.id, user, ...sealUserKey(invite.key, userKey), socket: ctx.paths.socket };
}
