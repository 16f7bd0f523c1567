/**
 * The HTTP edge shared by qpy's web pages (issue 17), over node:http: answers
 * with the right headers (no caching of live state, no framing by other
 * sites, no resource from elsewhere), the error answers (404, 400 with a
 * clear message, 403, 405), and Server-Sent Events for live updates. Every
 * page request reads in-memory state once; nothing here blocks dispatch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers every answer carries: nothing is loaded from elsewhere, nothing frames the page. */
const SAFE_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export const sendHtml = (res: ServerResponse, body: string, headers: Record<string, string> = {}): void =>
  send(res, 200, 'text/html; charset=utf-8', body, headers);

export const sendJson = (res: ServerResponse, value: unknown): void =>
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));

/** A plain-text error answer: 400 (bad parameter: the message says which), 403, 404, 405. */
export function sendError(res: ServerResponse, status: 400 | 403 | 404 | 405 | 413, message: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${message}\n`);
}

/** The request's path and query, or null for a target that is not a plain path. */
export function target(req: IncomingMessage): URL | null {
  const t = req.url ?? '';
  if (!t.startsWith('/')) return null;
  try {
    return new URL(t, 'http://qpy.invalid');
  } catch {
    return null;
  }
}

/** A request body of at most `max` bytes, as text; rejects beyond it. */
export function readBody(req: IncomingMessage, max = 16 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A Server-Sent Events stream: `send(event, data)` pushes one event; the client reconnects by itself. */
export interface EventStream {
  send(event: string, data: unknown): void;
  readonly closed: boolean;
}

/** Start an event stream on `res`; `onClose` runs when the browser goes. A comment line every 15 s keeps proxies from timing it out. */
export function eventStream(req: IncomingMessage, res: ServerResponse, onClose: () => void): EventStream {
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write('retry: 2000\n\n');
  let closed = false;
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    onClose();
  };
  req.on('close', close);
  res.on('error', close);
  return {
    send(event, data) {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
  };
}
