/**
 * The cluster page's HTTP server inside qpy-multiuser (issue 17), over
 * node:http (node:https off loopback, with the daemon's certificate). Routes:
 * `/` the page, `/cluster.js` its script, `/events` the event stream that
 * sends the tables again when the state changes (checked at most 4 times a
 * second, only while a browser listens) and the plots after each sample,
 * `/report?since=&until=` the report. Each page request reads the in-memory
 * state once (the report reads the ledger a part at a time, as
 * `qpy-admin report` does). Rendering is in src/web/cluster-*.ts.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { QpyError } from '../../errors.js';
import type { ClusterStatus } from '../../protocol/cluster.js';
import { eventStream, send, sendError, sendHtml, target, type EventStream } from '../../web/http.js';
import { clusterPage, clusterTables } from '../../web/cluster-page.js';
import { utilisationPlots } from '../../web/cluster-plot.js';
import { reportPage } from '../../web/cluster-report.js';
import { CLUSTER_SCRIPT } from '../../web/cluster-script.js';
import { parseTimeSpec } from '../../protocol/time-spec.js';
import type { MultiuserContext } from './context.js';
import { makeReport } from './ledger.js';
import type { SampleSeries } from './web-samples.js';

/** How often, at most, the event stream looks for a change of the tables. */
const CHANGE_CHECK_MS = 250;
/** Event streams open at most at once: a page left open in many tabs, or a hostile client, costs no more. */
const MAX_STREAMS = 64;

export interface WebServer {
  readonly url: string;
  /** A new sample was taken: send the plots again. */
  sampled(): void;
  setCertificate(pem: string): void;
  close(): Promise<void>;
}

export interface WebDeps {
  ctx: MultiuserContext;
  /** The status document, as `qpy-admin status` has it. */
  status(): ClusterStatus;
  series: SampleSeries;
  host: string;
  port: number;
  /** PEM key and certificate: serve HTTPS (off loopback). */
  tls: string | null;
}

export async function startWebServer(d: WebDeps): Promise<WebServer> {
  const clients = new Set<EventStream>();
  let lastTables = '';
  let checker: NodeJS.Timeout | null = null;
  const plots = () => utilisationPlots(d.series.fine, d.series.coarse, d.ctx.now()).text;
  const tables = () => clusterTables(d.status(), d.ctx.now()).text;
  const check = () => {
    const t = tables();
    if (t === lastTables) return;
    lastTables = t;
    for (const c of clients) c.send('tables', t);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = target(req);
    if (url === null) {
      sendError(res, 400, 'the request target is not a path');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, `${req.method} is not served here: the page only reads`);
      return;
    }
    const params = [...url.searchParams.keys()];
    const only = (allowed: string[]): boolean => {
      const extra = params.find((p) => !allowed.includes(p));
      if (extra === undefined) return true;
      sendError(
        res,
        400,
        `unknown parameter "${extra}" for ${url.pathname}${allowed.length ? `: it takes ${allowed.join(', ')}` : ': it takes none'}`,
      );
      return false;
    };
    switch (url.pathname) {
      case '/':
        if (only([])) {
          const now = d.ctx.now();
          sendHtml(res, clusterPage(d.status(), utilisationPlots(d.series.fine, d.series.coarse, now), now));
        }
        return;
      case '/cluster.js':
        if (only([])) send(res, 200, 'text/javascript; charset=utf-8', CLUSTER_SCRIPT);
        return;
      case '/events': {
        if (!only([])) return;
        if (clients.size >= MAX_STREAMS) {
          send(res, 503, 'text/plain; charset=utf-8', `too many live pages open (${MAX_STREAMS}): try again later\n`);
          return;
        }
        const stream = eventStream(req, res, () => {
          clients.delete(stream);
          if (clients.size === 0 && checker !== null) {
            clearInterval(checker);
            checker = null;
          }
        });
        clients.add(stream);
        lastTables = tables();
        stream.send('tables', lastTables);
        stream.send('plots', plots());
        checker ??= setInterval(check, CHANGE_CHECK_MS);
        return;
      }
      case '/report':
        if (only(['since', 'until'])) void report(d.ctx, url, res);
        return;
      default:
        sendError(res, 404, `no page ${url.pathname} here: the cluster page is at /`);
    }
  };
  const server: Server | HttpsServer = d.tls === null ? createHttp(handle) : createHttps({ key: d.tls, cert: d.tls }, handle);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(d.port, d.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return {
    url: `${d.tls === null ? 'http' : 'https'}://${host}:${port}/`,
    sampled: () => {
      if (clients.size === 0) return;
      const p = plots();
      for (const c of clients) c.send('plots', p);
    },
    setCertificate: (pem) => {
      if (d.tls !== null) (server as HttpsServer).setSecureContext({ key: pem, cert: pem });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (checker !== null) clearInterval(checker);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A `since`/`until` parameter against this machine's clock and time zone (null: not given). */
function timeParam(name: string, text: string, now: number): number | null {
  if (text === '') return null;
  const r = parseTimeSpec(text, { now, offsetMinutes: (ms) => -new Date(ms).getTimezoneOffset() });
  if (!r.ok) throw new QpyError('INVALID_ARGUMENT', `${name}: ${r.message}`);
  return r.at;
}

/** `/report`: the period's words read as `qpy-admin report` reads them; a bad one is a 400 that says why. */
async function report(ctx: MultiuserContext, url: URL, res: ServerResponse): Promise<void> {
  const since = url.searchParams.get('since') ?? '';
  const until = url.searchParams.get('until') ?? '';
  try {
    const now = ctx.now();
    const r = await makeReport(ctx, timeParam('since', since, now), timeParam('until', until, now));
    sendHtml(res, reportPage(r, { since, until }));
  } catch (err) {
    if (err instanceof QpyError && err.code === 'INVALID_ARGUMENT') sendError(res, 400, err.message);
    else {
      ctx.log(`web: report: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'the report could not be made: see the daemon log\n');
    }
  }
}
