/**
 * A daemon's TLS identity: a private key (EC P-256) and a self-signed
 * certificate, made at the first start that needs them by the openssl
 * command (Node's crypto writes no X.509), kept together in one file (mode
 * 0600, key first). There is no CA: peers pin the certificate's SHA-256
 * fingerprint (transport/pin.ts), and its expiry date is never checked.
 * qpy-multiuser keeps `tls.pem` in the admin directory when it listens off
 * loopback (the join code carries the fingerprint; `qpy-admin
 * rotate-certificate` replaces it: multiuser/certificate-rotation.ts); a
 * master keeps `pilot-tls.pem` for the links of its Slurm pilots (the pilot
 * file carries the fingerprint: master/pilot-hub.ts).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { QpyError } from '../../errors.js';
import { normalFingerprint } from '../../transport/pin.js';

export interface Certificate {
  /** The private key and the certificate, PEM, in one text (what tls.pem holds). */
  pem: string;
  /** SHA-256 of the certificate, `4B:EB:…` (pin.ts). */
  fingerprint: string;
}

/** Check a key-and-certificate text; a QpyError naming `where` if it is not a matching pair. */
export function parseCertificate(pem: string, where: string): Certificate {
  try {
    const x509 = new X509Certificate(pem);
    if (!x509.checkPrivateKey(createPrivateKey(pem))) throw new Error('the key does not belong to the certificate');
    return { pem, fingerprint: normalFingerprint(x509.fingerprint256)! };
  } catch (err) {
    throw new QpyError(
      'STORE',
      `${where} is not a TLS key and certificate: ${(err as Error).message}`,
      `remove it to have a new one made at the next start (users on other hosts must then join again): rm ${where}`,
    );
  }
}

/**
 * The certificate at `path`, or null if there is none; one readable by others or damaged is a QpyError
 * (`replaceHint`: how to replace it, for the hint).
 */
export function loadCertificate(path: string, replaceHint = 'qpy-admin rotate-certificate'): Certificate | null {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new QpyError(
        'UNAUTHENTICATED',
        `the TLS key ${path} is open to other users (mode ${mode.toString(8)})`,
        `run: chmod 600 ${path}, and replace it if anyone may have read it (${replaceHint})`,
      );
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof QpyError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QpyError('STORE', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseCertificate(text, path);
}

const run = (cmd: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new QpyError(
          'INTERNAL',
          missing
            ? 'cannot make a TLS certificate: the openssl command is not installed'
            : `cannot make a TLS certificate: openssl failed: ${String(stderr).trim().split('\n').pop() || err.message}`,
          missing ? 'install it (Debian: apt-get install openssl), or listen on 127.0.0.1 only' : undefined,
        ),
      );
    });
  });

/** A new key and self-signed certificate named `commonName`, made by openssl in a private scratch directory beside `path`. */
export async function makeCertificate(path: string, commonName = 'qpy-multiuser'): Promise<Certificate> {
  const scratch = mkdtempSync(join(dirname(path), '.tls-'));
  try {
    const key = join(scratch, 'key.pem');
    const crt = join(scratch, 'crt.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '3650',
      '-subj',
      `/CN=${commonName}`,
      '-batch',
    ]);
    return parseCertificate(readFileSync(key, 'utf8') + readFileSync(crt, 'utf8'), 'the certificate openssl made');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Put `cert` at `path` (0600), replacing any old one atomically. */
export function saveCertificate(path: string, cert: Certificate): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    try {
      unlinkSync(tmp);
    } catch {
      /* none left */
    }
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, cert.pem);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new QpyError('STORE', `cannot write the TLS certificate ${path}: ${(err as Error).message}`);
  }
}

/** The certificate to start with: the one kept, else a new one (saved, and logged with its fingerprint). */
export async function certificateAtStart(
  path: string,
  log: (line: string) => void,
  who: { commonName: string; replaceHint: string } = { commonName: 'qpy-multiuser', replaceHint: 'qpy-admin rotate-certificate' },
): Promise<Certificate> {
  const kept = loadCertificate(path, who.replaceHint);
  if (kept) return kept;
  const made = await makeCertificate(path, who.commonName);
  saveCertificate(path, made);
  log(`made a TLS key and self-signed certificate (${path}), SHA-256 fingerprint ${made.fingerprint}`);
  return made;
}
