/**
 * The user's page, served by their master over node:http on 127.0.0.1 (issue
 * 17): started at the first `qpy web`, which mints a one-time token
 * (web/user-auth.ts). The first GET with the token opens a session (an
 * HttpOnly, SameSite=Strict cookie) and redirects to drop the token from the
 * URL; every other request needs the session, and every POST its CSRF token
 * too. Pages are rendered from the in-memory jobs (one read per request, no
 * store access, nothing that waits on dispatch); buttons and output go
 * through the master's own request handler (`handle`), as the CLI's do.
 * When a write is committed, `changed` tells every open page (SSE); the
 * Slurm pools are watched while a page listens (web-pools.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { CliToMaster, MasterToCli } from '../../protocol/user-master.js';
import { UserAuth, type Session } from '../../web/user-auth.js';
import { eventStream, send, sendError, target, type EventStream } from '../../web/http.js';
import { USER_SCRIPT } from '../../web/user-script.js';
import type { MasterContext, UserWebLink } from './context.js';
import { routeUser } from './web-routes.js';
import { handleCli } from './handlers.js';
import { watchPools } from './web-pools.js';

/** How long after a committed write the open pages hear of it (many writes, one event). */
const CHANGE_COALESCE_MS = 100;
/** Most event streams open at once. */
const MAX_STREAMS = 64;

const secret = (): string => randomBytes(24).toString('base64url');

export function createUserWeb(ctxOf: () => MasterContext): UserWebLink {
  const handle = (req: CliToMaster): Promise<MasterToCli> => handleCli(ctxOf(), req);
  let server: Server | null = null;
  let auth: UserAuth | null = null;
  let starting: Promise<UserAuth> | null = null;
  const streams = new Set<EventStream>();
  let pending: NodeJS.Timeout | null = null;
  const pools = watchPools(ctxOf, (section) => {
    for (const s of streams) s.send('pools', section);
  });

  const forbidden = (res: ServerResponse, why: string) =>
    sendError(res, 403, `Forbidden: ${why}. Open the page with a fresh link from: qpy web`);

  async function serve(a: UserAuth, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = target(req);
    if (url === null) return sendError(res, 404, 'Not found.');
    if (url.pathname === '/' && url.searchParams.has('token')) {
      if (req.method !== 'GET') return sendError(res, 405, 'Use GET.');
      const s = a.redeem(url.searchParams.get('token') ?? '', secret(), secret(), ctxOf().now());
      if (s === null) return forbidden(res, 'this link is not valid (a link opens the page once)');
      return send(res, 303, 'text/plain; charset=utf-8', 'See /\n', { location: '/', 'set-cookie': a.setCookie(s) });
    }
    const session: Session | null = a.session(req.headers.cookie);
    if (session === null) return forbidden(res, 'no session');
    if (url.pathname === '/user.js') return send(res, 200, 'text/javascript; charset=utf-8', USER_SCRIPT);
    if (url.pathname === '/events') {
      if (req.method !== 'GET') return sendError(res, 405, 'Use GET.');
      if (streams.size >= MAX_STREAMS) return send(res, 429, 'text/plain; charset=utf-8', 'Too many pages open.\n');
      const s = eventStream(req, res, () => {
        streams.delete(s);
        if (streams.size === 0) pools.stop();
      });
      streams.add(s);
      pools.start();
      return;
    }
    const origin = req.headers.origin;
    if (req.method === 'POST' && origin !== undefined && origin !== `http://${req.headers.host}`) return forbidden(res, 'another origin');
    return routeUser(ctxOf(), handle, session, url, req, res);
  }

  async function start(): Promise<UserAuth> {
    const s = createServer((req, res) => {
      const a = auth;
      if (a === null) return sendError(res, 404, 'Not found.');
      serve(a, req, res).catch((err: unknown) => {
        ctxOf().log(`web: ${(err as Error).message}`);
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'The master could not answer this.\n');
        else res.destroy();
      });
    });
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    await new Promise<void>((ok, fail) => {
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => ok());
    });
    s.on('error', (err) => ctxOf().log(`web: ${err.message}`));
    server = s;
    auth = new UserAuth((s.address() as AddressInfo).port);
    ctxOf().log(`web page on 127.0.0.1:${auth.port}`);
    return auth;
  }

  return {
    async open(id) {
      starting ??= start();
      const a = await starting;
      const token = secret();
      a.mint(token, ctxOf().now());
      return { type: 'web', id, port: a.port, token };
    },
    changed() {
      if (streams.size === 0 || pending !== null) return;
      pending = setTimeout(() => {
        pending = null;
        for (const s of streams) s.send('jobs', {});
      }, CHANGE_COALESCE_MS);
    },
    async close() {
      if (pending !== null) clearTimeout(pending);
      pools.stop();
      const s = server;
      if (s === null) return;
      await new Promise<void>((ok) => {
        s.close(() => ok());
        s.closeAllConnections();
      });
    },
  };
}
