/** Tests for src/transport/invite.ts: codes, the derived keys, and sealing the user's key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inviteKey, newInviteCode, openUserKey, sealUserKey } from '../../src/transport/invite.js';
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
