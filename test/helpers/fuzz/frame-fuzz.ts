/**
 * The frame fuzzer: frames from frames.ts sent to running daemons over
 * authenticated links (and some to fresh links before the handshake), each
 * reply checked at once and the daemon checked after every batch.
 *
 * Per frame: every reply validates against the link's reply schema, carries
 * the frame's id, is never INTERNAL and holds no stack trace; a frame the
 * request schema refuses (judged here with the daemons' own parseFrame) gets
 * BAD_FRAME or BAD_REQUEST and nothing else, so it was not acted on; a text
 * frame that is not UTF-8 closes the link (1007). Before the handshake no
 * frame gets anything but an error and the close. Per batch: the daemon's
 * process is alive, a fresh link gets a valid `status`, the target's own
 * check holds (a master lists no job it never announced), and its log has no
 * internal error. Each answer is judged in frame-answers.ts; the daemons
 * are described by frame-fuzz-target.ts, the run by frame-report.ts.
 */
import { readFileSync } from 'node:fs';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { parseFrame } from '../../../src/protocol/parse.js';
import { authSchema } from '../../../src/protocol/handshake.js';
import { errorReplySchema } from '../../../src/protocol/user-master.js';
import type { Schema } from '../../../src/protocol/schema.js';
import { ROLES } from '../../../src/protocol/version.js';
import { fuzzFrame, mutate, MUTATIONS, type Frame } from './frames.js';
import { messageTypes, validMessage } from './valid-messages.js';
import { openRawLink, type RawLink } from './raw-link.js';
import { checkAnswer, excerpt, expected, STACK, type Expected } from './frame-answers.js';
import type { FuzzTarget } from './frame-fuzz-target.js';
import { bump, type FuzzReport } from './frame-report.js';
import { Rng } from '../prng.js';

export interface FuzzOptions {
  seed: number;
  /** Frames in all, spread over the targets. */
  count: number;
  targets: FuzzTarget[];
  /** Frames between two rounds of daemon checks. */
  batch?: number;
  /** Share of frames sent before the handshake, on a fresh link each. */
  preAuthShare?: number;
  /** Share of the authenticated frames that are mutated. */
  mutateShare?: number;
  replyTimeoutMs?: number;
  /** Progress lines (one per batch). */
  progress?(line: string): void;
}

export async function fuzzFrames(opts: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(opts.seed);
  const batch = opts.batch ?? 100;
  const preAuth = opts.preAuthShare ?? 0.05;
  const mutateShare = opts.mutateShare ?? 0.7;
  const timeout = opts.replyTimeoutMs ?? 15_000;
  const report: FuzzReport = { seed: opts.seed, frames: 0, tried: new Map(), answers: new Map(), findings: [], ms: 0 };
  const started = performance.now();
  const find = (t: FuzzTarget, what: string) => {
    if (report.findings.length < 200) report.findings.push(`${t.name}: ${what}`);
  };
  const links = new Map<FuzzTarget, RawLink>();
  const isWake = (text: string) => /^\{"type":"wake"\}$/.test(text);
  const linkFor = async (t: FuzzTarget): Promise<RawLink> => {
    const l = links.get(t);
    if (l && !l.closed) return l;
    const fresh = await openRawLink(t.url(), { key: t.key(), role: t.role, user: t.user }, t.isPush ?? isWake, t.pin?.());
    links.set(t, fresh);
    return fresh;
  };
  const types = new Map(opts.targets.map((t) => [t, messageTypes(t.requestSchema)]));
  const readLog = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const logStart = new Map(opts.targets.map((t) => [t.logPath, readLog(t.logPath).length]));
  let nextId = 1;

  /** One authenticated frame: sent, its answer checked. */
  const authenticated = async (t: FuzzTarget) => {
    let frame: Frame;
    let want: Expected;
    // A frame the daemon would act on but must not get (finish, wait…) is made again.
    for (;;) {
      frame = fuzzFrame(t.requestSchema, types.get(t)!, nextId++, rng, mutateShare, t.tune?.bind(t));
      want = expected(frame, t.requestSchema);
      if (!want.accepted || !t.forbid(want.msg)) break;
    }
    bump(report.tried, `${t.name} ${frame.kind}`);
    const link = await linkFor(t);
    const out = await link.exchange(frame, timeout);
    checkAnswer(t, frame, want, out, timeout, report.answers, (what) => find(t, what));
    const reply = want.accepted && out.replies[0] !== undefined ? parseFrame(out.replies[0], t.replySchema, Number.MAX_SAFE_INTEGER) : null;
    if (reply?.ok && t.relink?.(reply.value as Record<string, unknown>, rng)) {
      link.close();
      links.delete(t);
    }
  };

  /** One frame on a fresh link before authenticating: anything but an error and the close is a finding. */
  const unauthenticated = async (t: FuzzTarget) => {
    const auth = {
      type: 'auth',
      protocol: rng.pick([2, 2, 2, 1, 3, -1]),
      role: rng.pick([t.role, ...ROLES]),
      user: rng.pick([t.user, 'admin', '', 'x'.repeat(300)]),
      nonce: 'ab'.repeat(32),
      mac: rng.chance(0.5) ? '0'.repeat(64) : rng.pick(['', 'zz', 'f'.repeat(64)]),
    };
    const which = rng.weighted([
      ['auth', 5],
      ['mutatedAuth', 6],
      ['request', 3],
    ] as const);
    const frame: Frame =
      which === 'auth'
        ? { kind: 'preauth:wrongMac', data: Buffer.from(JSON.stringify(auth)), binary: rng.chance(0.2) }
        : which === 'request'
          ? {
              kind: 'preauth:request',
              data: Buffer.from(JSON.stringify(validMessage(t.requestSchema, rng.pick(types.get(t)!), nextId++, rng))),
              binary: false,
            }
          : (() => {
              const m = mutate(authSchema as Schema<unknown>, auth, rng.weighted(MUTATIONS), rng);
              return { ...m, kind: `preauth:${m.kind}` };
            })();
    bump(report.tried, `${t.name} ${frame.kind}`);
    let link: RawLink;
    try {
      link = await openRawLink(t.url(), null, undefined, t.pin?.());
    } catch (err) {
      return find(t, `cannot open an unauthenticated link: ${(err as Error).message}`);
    }
    const out = await link.exchange(frame, timeout, true);
    link.close();
    if (out.timedOut) return find(t, `before the handshake: no close within ${timeout} ms after ${frame.kind} (${excerpt(frame)})`);
    bump(report.answers, out.replies.length ? `preauth error then closed` : `preauth closed ${out.closed}`);
    for (const text of out.replies) {
      const e = parseFrame(text, errorReplySchema, 1 << 20);
      if (!e.ok) find(t, `before the handshake, ${frame.kind} got a reply that is no error: ${text.slice(0, 200)}`);
      else if (e.value.code === 'INTERNAL' || STACK.test(e.value.message)) find(t, `before the handshake: ${text.slice(0, 300)}`);
    }
  };

  /** The daemon checks of a batch's end. */
  const checkDaemons = async () => {
    for (const t of opts.targets) {
      if (!t.alive()) {
        find(t, 'the daemon is dead');
        throw new Error(`${t.name} died (seed ${opts.seed}); findings so far:\n${report.findings.join('\n')}`);
      }
      try {
        const c = await connect<never, { type: string }>({
          url: t.url(),
          socket: wsSocket,
          key: t.key(),
          role: t.role,
          user: t.user,
          replySchema: t.replySchema as Schema<{ type: string }>,
          timeoutMs: timeout,
          ...(t.pin ? { pin: t.pin() } : {}),
        });
        try {
          const r = await c.request(t.status as never, timeout);
          const want = t.statusReply ?? 'status';
          if (r.type !== want) find(t, `a ${String(t.status['type'])} request got ${r.type}, not ${want}`);
        } finally {
          c.close();
        }
      } catch (err) {
        find(t, `a status request failed: ${(err as Error).message}`);
      }
      const problem = await t.check?.();
      if (problem) find(t, problem);
      const log = readLog(t.logPath);
      const internal = log
        .slice(logStart.get(t.logPath))
        .split('\n')
        .filter((l) => /internal error|INTERNAL/.test(l));
      if (internal.length) find(t, `its log has internal errors: ${internal.slice(0, 3).join(' | ').slice(0, 600)}`);
      logStart.set(t.logPath, log.length);
    }
  };

  // Unauthenticated attempts run beside the rest, a few at a time: past a handful of failures a
  // minute the daemons hold each refusal back (up to the handshake deadline), by design.
  const pending = new Set<Promise<void>>();
  const PREAUTH_AT_ONCE = 16;
  try {
    for (let i = 0; i < opts.count; i++) {
      const t = opts.targets[i % opts.targets.length]!;
      if (rng.chance(preAuth)) {
        if (pending.size >= PREAUTH_AT_ONCE) await Promise.race(pending);
        const p: Promise<void> = unauthenticated(t).finally(() => pending.delete(p));
        pending.add(p);
      } else await authenticated(t);
      report.frames++;
      if ((i + 1) % batch === 0 || i + 1 === opts.count) {
        await Promise.all(pending);
        await checkDaemons();
        opts.progress?.(`${i + 1}/${opts.count} frames, ${report.findings.length} findings, ${Math.round(performance.now() - started)} ms`);
      }
    }
  } finally {
    for (const l of links.values()) l.close();
    report.ms = Math.round(performance.now() - started);
  }
  return report;
}
