/** Tests for src/transport/invite.ts: codes, the derived keys, and sealing the user's key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inviteKey, joinCodeText, newInviteCode, openUserKey, sealUserKey, splitJoinCode } from '../../src/transport/invite.js';
import { fingerprintOfBytes, normalFingerprint } from '../../src/transport/pin.js';
import { QpyError } from '../../src/errors.js';

test('codes: 26 lowercase base32 characters, never starting like an option, all different', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const c = newInviteCode();
    assert.match(c, /^[a-z2-7]{26}$/);
    seen.add(c);
  }
  assert.equal(seen.size, 2000);
});

test('the handshake key depends on the user and the code (surrounding blanks ignored)', () => {
  const code = newInviteCode();
  assert.deepEqual(inviteKey(` ${code}\n`, 'alice'), inviteKey(code, 'alice'));
  assert.notDeepEqual(inviteKey(code, 'bob'), inviteKey(code, 'alice'));
  assert.notDeepEqual(inviteKey(newInviteCode(), 'alice'), inviteKey(code, 'alice'));
});

test('a sealed key opens with the same invitation only, and not once tampered with', () => {
  const inv = inviteKey(newInviteCode(), 'alice');
  const key = randomBytes(32);
  const sealed = sealUserKey(inv, key);
  assert.deepEqual(openUserKey(inv, sealed), key);
  assert.throws(() => openUserKey(inviteKey(newInviteCode(), 'alice'), sealed), QpyError);
  const flipped = { ...sealed, data: (sealed.data[0] === '0' ? '1' : '0') + sealed.data.slice(1) };
  assert.throws(() => openUserKey(inv, flipped), QpyError);
});

test('join codes: the code alone on loopback; with TLS the code and the certificate fingerprint in base32, one 78-letter word that splits back exactly', () => {
  const code = newInviteCode();
  assert.equal(joinCodeText(code), code);
  assert.deepEqual(splitJoinCode(code), { code });
  for (let i = 0; i < 200; i++) {
    const fp = fingerprintOfBytes(randomBytes(32));
    const text = joinCodeText(code, fp);
    assert.match(text, /^[a-z2-7]{78}$/);
    assert.ok(text.startsWith(code));
    assert.deepEqual(splitJoinCode(text), { code, fingerprint: fp });
  }
  const edge = fingerprintOfBytes(Buffer.alloc(32, 0xff));
  assert.deepEqual(splitJoinCode(joinCodeText(code, edge)), { code, fingerprint: edge });
  // Wrong lengths, letters outside base32, and nonzero padding bits are no join code.
  const text = joinCodeText(code, edge);
  assert.equal(splitJoinCode(text.slice(0, -1)), null);
  assert.equal(splitJoinCode(`${text}a`), null);
  assert.equal(splitJoinCode(`${text.slice(0, -1)}1`), null);
  assert.equal(splitJoinCode(`${text.slice(0, -1)}b`), null, 'the last letter carries one bit and four zero bits');
});

test('fingerprints: any case, colons optional, one canonical form; anything else is none', () => {
  const fp = fingerprintOfBytes(Buffer.from(`4beb${'00'.repeat(30)}`, 'hex'));
  assert.match(fp, /^4B:EB(:00){30}$/);
  assert.equal(normalFingerprint(fp.toLowerCase()), fp);
  assert.equal(normalFingerprint(fp.replace(/:/g, '')), fp);
  assert.equal(normalFingerprint(fp.slice(3)), null);
  assert.equal(normalFingerprint(`sha256 Fingerprint=${fp}`), null);
});
