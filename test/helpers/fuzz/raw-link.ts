/**
 * A WebSocket link for the fuzzer that sends whatever bytes it is given, as
 * a text or a binary message, and reads back what the daemon answers: the
 * handshake is done by hand (transport/auth.ts proofs) when a key is given,
 * else the link stops after `hello`, for frames sent before authenticating.
 * The real client (transport/client.ts) would refuse to send most of these.
 * A wss:// URL (the master's pilot hub) needs the certificate's pin.
 */
import WebSocket from 'ws';
import { clientProof, freshNonce, sameMac, serverProof } from '../../../src/transport/auth.js';
import { PROTOCOL_VERSION, type Role } from '../../../src/protocol/version.js';
import { pinnedTls } from '../../../src/transport/ws-socket.js';
import type { PinOptions } from '../../../src/transport/pin.js';
import type { Frame } from './frames.js';

/** What came back for one frame: replies (in order), and how the link ended if it did. */
export interface Outcome {
  replies: string[];
  /** The close code, if the daemon closed the link (or it broke: 1006). */
  closed: number | null;
  timedOut: boolean;
}

export interface RawLink {
  /** Send `frame`; wait for one reply (or `untilClose`: every reply until the link closes), the close, or the timeout. */
  exchange(frame: Frame, timeoutMs: number, untilClose?: boolean): Promise<Outcome>;
  readonly closed: boolean;
  close(): void;
}

export interface RawAuth {
  key: Buffer;
  role: Role;
  user: string;
}

/**
 * Open a link to `url`; with `auth`, authenticate first. `isPush`: messages to skip (pushes such as `wake`);
 * `pin`: the server's certificate, for a wss:// URL.
 */
export function openRawLink(
  url: string,
  auth: RawAuth | null,
  isPush: (text: string) => boolean = () => false,
  pin?: PinOptions,
): Promise<RawLink> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: 1 << 30,
      handshakeTimeout: 10_000,
      ...(pin ? { createConnection: pinnedTls(pin) as never } : {}),
    });
    const inbox: string[] = [];
    let closeCode: number | null = null;
    let wake: (() => void) | null = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    let stage: 'hello' | 'welcome' | 'open' = 'hello';
    const nonce = freshNonce();
    let serverNonce = '';
    const link: RawLink = {
      get closed() {
        return closeCode !== null;
      },
      close: () => ws.terminate(),
      exchange(frame, timeoutMs, untilClose = false) {
        inbox.length = 0;
        if (closeCode !== null) return Promise.resolve({ replies: [], closed: closeCode, timedOut: false });
        ws.send(frame.data, { binary: frame.binary });
        return new Promise<Outcome>((done) => {
          const timer = setTimeout(() => finish(true), timeoutMs);
          const finish = (timedOut: boolean) => {
            clearTimeout(timer);
            wake = null;
            done({ replies: inbox.splice(0), closed: closeCode, timedOut });
          };
          const check = () => {
            if (closeCode !== null || (!untilClose && inbox.length > 0)) return finish(false);
            wake = check;
          };
          check();
        });
      },
    };
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      void isBinary;
      if (stage === 'hello') {
        const hello = JSON.parse(text) as { nonce: string };
        serverNonce = hello.nonce;
        if (auth === null) {
          stage = 'open';
          return resolve(link);
        }
        stage = 'welcome';
        ws.send(
          JSON.stringify({
            type: 'auth',
            protocol: PROTOCOL_VERSION,
            role: auth.role,
            user: auth.user,
            nonce,
            mac: clientProof(auth.key, auth.role, serverNonce, nonce),
          }),
        );
        return;
      }
      if (stage === 'welcome') {
        const w = JSON.parse(text) as { type: string; mac?: string };
        if (w.type !== 'welcome' || !sameMac(w.mac ?? '', serverProof(auth!.key, serverNonce, nonce))) {
          ws.terminate();
          return reject(new Error(`handshake refused: ${text}`));
        }
        stage = 'open';
        return resolve(link);
      }
      if (isPush(text)) return;
      inbox.push(text);
      poke();
    });
    ws.on('close', (code) => {
      closeCode = code;
      if (stage !== 'open') reject(new Error(`closed during the handshake (${code})`));
      poke();
    });
    ws.on('error', (err) => {
      if (stage !== 'open') reject(err);
      closeCode ??= 1006;
      poke();
    });
  });
}
