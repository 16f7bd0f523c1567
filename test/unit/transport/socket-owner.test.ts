/** Tests for the pure parts of src/transport/socket-owner.ts and the passwd parser (src/accounts.ts), on fixture text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findConnection,
  findListener,
  formatOwner,
  normalizeAddress,
  parseProcNetTcp,
  TCP_LISTEN,
} from '../../../src/transport/socket-owner.js';
import { parsePasswd } from '../../../src/accounts.js';

// Port 0x9C5B = 40027 (the daemon), 0xC4EC = 50412 (a client).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C5B 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C4EC 0100007F:9C5B 01 00000000:00000000 00:00000000 00000000  1003        0 51234 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C5B 0100007F:C4EC 01 00000000:00000000 00:00000000 00000000  1000        0 51235 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C4ED 0100007F:9C5B 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   4: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1110 1 0000000000000000 100 0 0 10 0
garbage line
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:9C5C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 61000 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:D000 0000000000000000FFFF00000100007F:9C5C 01 00000000:00000000 00:00000000 00000000  1003        0 61001 1 0000000000000000 20 4 30 10 -1
   2: 00000000000000000000000001000000:D001 00000000000000000000000001000000:9C5C 01 00000000:00000000 00:00000000 00000000  1004        0 61002 1 0000000000000000 20 4 30 10 -1
`;

test('addresses: IPv4, IPv6 in any spelling, IPv4-mapped IPv6 as IPv4; not addresses: null', () => {
  assert.equal(normalizeAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeAddress('::FFFF:7f00:1'), '127.0.0.1');
  assert.equal(normalizeAddress('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(normalizeAddress('[fe80::1%eth0]'), 'fe80:0:0:0:0:0:0:1');
  assert.equal(normalizeAddress('2001:db8:0:0:0:0:2:1'), '2001:db8:0:0:0:0:2:1');
  assert.equal(normalizeAddress('::'), '0:0:0:0:0:0:0:0');
  for (const bad of ['', 'localhost', '1.2.3.256', '1:2:3', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::'])
    assert.equal(normalizeAddress(bad), null, bad);
});

test('/proc/net/tcp: addresses in host byte order, ports, states, uids and inodes; bad lines skipped', () => {
  const e = parseProcNetTcp(TCP, true);
  assert.equal(e.length, 5);
  assert.deepEqual(e[1], {
    local: { address: '127.0.0.1', port: 50412 },
    remote: { address: '127.0.0.1', port: 40027 },
    state: 1,
    uid: 1003,
    inode: 51234,
  });
  assert.equal(e[0]!.state, TCP_LISTEN);
  assert.deepEqual(e[4]!.local, { address: '0.0.0.0', port: 22 });
  // A big-endian machine prints the same address the other way round.
  assert.equal(parseProcNetTcp('   0: 7F000001:0016 00000000:0000 0A 0:0 0:0 0 5 0 9\n', false)[0]!.local.address, '127.0.0.1');
});

test('/proc/net/tcp6: IPv4-mapped and IPv6 loopback', () => {
  const e = parseProcNetTcp(TCP6, true);
  assert.deepEqual(
    e.map((x) => x.local.address),
    ['0:0:0:0:0:0:0:0', '127.0.0.1', '0:0:0:0:0:0:0:1'],
  );
  assert.deepEqual(
    e.map((x) => x.local.port),
    [40028, 53248, 53249],
  );
});

test('the client socket of a connection: its local end is the peer, its remote end is us (not our own end, not TIME_WAIT)', () => {
  const e = [...parseProcNetTcp(TCP, true), ...parseProcNetTcp(TCP6, true)];
  assert.equal(findConnection(e, { address: '127.0.0.1', port: 50412 }, { address: '127.0.0.1', port: 40027 })?.uid, 1003);
  assert.equal(findConnection(e, { address: '::ffff:127.0.0.1', port: 50412 }, { address: '::ffff:127.0.0.1', port: 40027 })?.inode, 51234);
  assert.equal(findConnection(e, { address: '::ffff:127.0.0.1', port: 53248 }, { address: '::ffff:127.0.0.1', port: 40028 })?.uid, 1003);
  assert.equal(findConnection(e, { address: '::1', port: 53249 }, { address: '::1', port: 40028 })?.uid, 1004);
  assert.equal(findConnection(e, { address: '127.0.0.1', port: 50413 }, { address: '127.0.0.1', port: 40027 }), undefined);
  assert.equal(findConnection(e, { address: '10.0.0.5', port: 50412 }, { address: '127.0.0.1', port: 40027 }), undefined);
});

test('the listener on a port: on the address asked for, else on every address', () => {
  const e = [...parseProcNetTcp(TCP, true), ...parseProcNetTcp(TCP6, true)];
  assert.equal(findListener(e, 40027, '127.0.0.1')?.inode, 41234);
  assert.equal(findListener(e, 40028, '127.0.0.1')?.inode, 61000);
  assert.equal(findListener(e, 22)?.uid, 0);
  assert.equal(findListener(e, 50412), undefined);
});

test('passwd: uid to name, the first line of a uid wins, bad lines skipped; owners formatted', () => {
  const names = parsePasswd(
    'root:x:0:0:root:/root:/bin/bash\nmallory:x:1003:1003::/home/mallory:/bin/sh\ntoor:x:0:0::/:/bin/sh\n# comment\nbad\n\n',
  );
  assert.deepEqual(
    [...names],
    [
      [0, 'root'],
      [1003, 'mallory'],
    ],
  );
  assert.equal(formatOwner({ uid: 1003, user: 'mallory', pid: 4242 }), 'uid 1003 mallory, pid 4242');
  assert.equal(formatOwner({ uid: 1003, user: null, pid: null }), 'uid 1003');
});
