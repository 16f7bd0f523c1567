/**
 * A network namespace of the test's own, for daemons that must listen on a
 * non-loopback address: `ip netns add`, a veth pair with 10.213.N.M/30 on
 * this side (`outside`) and the next address inside (`inside`), both links
 * up. Only these addresses are ever used: nothing leaves the machine. Root
 * only (`netnsSkip` says why not); disposing it kills what still runs in the
 * namespace (the test's own processes) and removes the pair and the
 * namespace, whatever the test did.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface TestNetns extends AsyncDisposable {
  readonly name: string;
  /** This side's address (the host's end of the veth pair). */
  readonly outside: string;
  /** The address inside the namespace. */
  readonly inside: string;
  /** The command prefix that runs a program inside: `ip netns exec NAME`. */
  readonly exec: string[];
}

function ip(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** Why a namespace cannot be made here (a skip reason for node:test), or false. */
export function netnsSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root: the test makes a network namespace (ip netns) to listen on a non-loopback address';
  const r = ip(['netns', 'list']);
  if (!r.ok) return `needs ip netns (iproute2): ${r.err}`;
  return false;
}

let made = 0;

export function testNetns(): TestNetns {
  const tag = `${process.pid % 100000}${String.fromCharCode(97 + (made++ % 26))}`;
  const name = `qpyt-${tag}`;
  const veth = `qpv${tag}`;
  // A /30 of our own in 10.213.0.0/16: .1 here, .2 inside.
  const base = randomInt(0, 256 * 64) * 4;
  const at = (n: number) => `10.213.${Math.floor((base + n) / 256)}.${(base + n) % 256}`;
  const outside = at(1);
  const inside = at(2);
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', `${veth}o`, 'type', 'veth', 'peer', 'name', `${veth}i`],
    ['link', 'set', `${veth}i`, 'netns', name],
    ['addr', 'add', `${outside}/30`, 'dev', `${veth}o`],
    ['link', 'set', `${veth}o`, 'up'],
    ['-n', name, 'addr', 'add', `${inside}/30`, 'dev', `${veth}i`],
    ['-n', name, 'link', 'set', `${veth}i`, 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ];
  const remove = () => {
    const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    ip(['link', 'del', `${veth}o`]);
    ip(['netns', 'del', name]);
  };
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      remove();
      throw new Error(`ip ${step.join(' ')}: ${r.err}`);
    }
  }
  return {
    name,
    outside,
    inside,
    exec: ['ip', 'netns', 'exec', name],
    async [Symbol.asyncDispose]() {
      remove();
    },
  };
}
