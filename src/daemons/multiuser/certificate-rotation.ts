/**
 * `qpy-admin rotate-certificate`: qpy-multiuser makes a new TLS key and
 * certificate, pushes its fingerprint to every connected master over the
 * old, authenticated link (`certificate`), waits until each has stored it
 * (`certificateStored`) or a deadline passes, and only then writes it to
 * tls.pem and serves it to new connections (open ones keep theirs). A master
 * keeps its old pin beside the new one until it has seen the new
 * certificate, so a rotation cut short (the daemon killed before it
 * switches) strands nobody. A master that was away must join again.
 */
import { QpyError } from '../../errors.js';
import type { Peer } from '../../transport/server.js';
import { makeCertificate, saveCertificate, type Certificate } from '../shared/tls-certificate.js';

export interface RotationDeps {
  /** tls.pem. */
  path: string;
  /** The certificate served now; null when the daemon listens on loopback (no TLS). */
  current(): Certificate | null;
  /** The masters connected now. */
  masters(): Peer[];
  /** Serve `cert` to new connections (and advertise it). */
  install(cert: Certificate): void;
  log(line: string): void;
  /** How long to wait for the masters to store the new fingerprint. */
  confirmMs: number;
}

export interface RotationResult {
  fingerprint: string;
  previous: string;
  masters: number;
  confirmed: number;
}

export interface CertificateRotator {
  rotate(): Promise<RotationResult>;
  /** A master says it stored `fingerprint` (its `certificateStored`). */
  stored(peer: Peer, fingerprint: string): void;
  /** A master's connection ended: no longer waited for. */
  disconnected(peer: Peer): void;
}

export function certificateRotator(deps: RotationDeps): CertificateRotator {
  let pending: { fingerprint: string; waiting: Set<Peer>; confirmed: number; check(): void } | null = null;
  return {
    async rotate() {
      const old = deps.current();
      if (old === null) {
        throw new QpyError(
          'INVALID_ARGUMENT',
          'qpy-multiuser listens on loopback, without TLS: it has no certificate to rotate',
          'TLS is used when multiuser_connection_address is a network address (then restart: qpy-admin finish; qpy-admin start)',
        );
      }
      if (pending !== null) throw new QpyError('ALREADY_RUNNING', 'a certificate rotation is already under way', 'wait for it to end');
      const p = { fingerprint: '', waiting: new Set<Peer>(), confirmed: 0, check: (): void => undefined };
      pending = p;
      try {
        const made: Certificate = await makeCertificate(deps.path);
        p.fingerprint = made.fingerprint;
        const masters = deps.masters();
        for (const m of masters) p.waiting.add(m);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deps.confirmMs);
          p.check = () => {
            if (p.waiting.size > 0) return;
            clearTimeout(timer);
            resolve();
          };
          for (const m of masters) m.send({ type: 'certificate', fingerprint: made.fingerprint });
          p.check();
        });
        saveCertificate(deps.path, made);
        deps.install(made);
        const missing = masters.length - p.confirmed;
        deps.log(
          `TLS certificate rotated: SHA-256 ${made.fingerprint} (was ${old.fingerprint}); ` +
            `${masters.length} master connection(s) told, ${p.confirmed} stored it` +
            `${missing > 0 ? `; ${missing} did not in time (those masters' users must join again if they never stored it)` : ''}`,
        );
        return { fingerprint: made.fingerprint, previous: old.fingerprint, masters: masters.length, confirmed: p.confirmed };
      } finally {
        pending = null;
      }
    },
    stored(peer, fingerprint) {
      if (pending === null || fingerprint !== pending.fingerprint || !pending.waiting.delete(peer)) return;
      pending.confirmed++;
      pending.check();
    },
    disconnected(peer) {
      if (pending?.waiting.delete(peer)) pending.check();
    },
  };
}
