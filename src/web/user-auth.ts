/**
 * Who may see a user's page (issue 17): one-time tokens minted by `qpy web`,
 * and the browser sessions they open. A token opens one session, once; a
 * session is a cookie whose name carries the master's port (cookies are not
 * kept apart by port, so two users' masters on one host must not share a
 * name), and each session has its own CSRF token for the page's POSTs. Pure:
 * the random values and the time are passed in; everything is in memory, so
 * a master that restarts forgets them all (`qpy web` again).
 */

/** How long a token minted by `qpy web` may wait to be used. */
export const TOKEN_TTL_MS = 10 * 60_000;
/** Most tokens waiting, and most sessions open: the oldest go first. */
const MAX_TOKENS = 32;
const MAX_SESSIONS = 32;

export interface Session {
  readonly id: string;
  /** Every state-changing POST must carry it. */
  readonly csrf: string;
}

export class UserAuth {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  /** `port`: the page's, which names its cookie. */
  constructor(readonly port: number) {}

  get cookieName(): string {
    return `qpy_user_${this.port}`;
  }

  /** A token minted now (random, from the caller), good once until TOKEN_TTL_MS. */
  mint(token: string, now: number): void {
    this.tokens.set(token, now + TOKEN_TTL_MS);
    while (this.tokens.size > MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
  }

  /** Spend `token`: a new session (ids from the caller) if it is known and fresh, else null. Either way it is gone. */
  redeem(token: string, sessionId: string, csrf: string, now: number): Session | null {
    const until = this.tokens.get(token);
    this.tokens.delete(token);
    if (until === undefined || until < now) return null;
    const s: Session = { id: sessionId, csrf };
    this.sessions.set(sessionId, s);
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return s;
  }

  /** The session a request's Cookie header names under this page's cookie, or null. */
  session(cookieHeader: string | undefined): Session | null {
    const id = cookieValue(cookieHeader, this.cookieName);
    return id === null ? null : (this.sessions.get(id) ?? null);
  }

  /** The Set-Cookie value of a session: not readable by scripts, sent only to this page, for every path. */
  setCookie(s: Session): string {
    return `${this.cookieName}=${s.id}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Compare two secrets in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
