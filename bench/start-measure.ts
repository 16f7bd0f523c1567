/**
 * How long a `qpy` command takes from fork to exit against `node -e 0`, the
 * floor any Node CLI pays (with NODE_EXTRA_CA_CERTS unset, as bin/qpy runs
 * node), measured in turns. Shared by bench/cli-start and bench/peers.
 */
import { QPY, type BenchUser } from './lib.js';
import { interleave, type Stats, type Timed } from './timing.js';

/** The targets: how much longer than `node -e 0` each may take. */
export const TARGET_OVER_NODE_MS = { sub: 30, subWait: 60 };

export interface StartFigures {
  node: Stats;
  /** `node -e 0` with the NODE_EXTRA_CA_CERTS of this environment, when it sets one. */
  nodeWithCa: Stats | null;
  rows: Map<string, Stats>;
}

/** `qpy --version`, `qpy sub` and `qpy sub -W` of /bin/true, from the snapshot and (with `bundle`) from the bundle. */
export function measureStart(u: BenchUser, rounds: number, bundle: boolean): StartFigures {
  const bare = { ...process.env };
  delete bare['NODE_EXTRA_CA_CERTS'];
  const cmds: Timed[] = [{ label: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: bare }];
  if (process.env['NODE_EXTRA_CA_CERTS'])
    cmds.push({ label: 'node -e 0, NODE_EXTRA_CA_CERTS set', file: process.execPath, args: ['-e', '0'] });
  for (const [name, args] of [
    ['qpy --version', ['--version']],
    ['qpy sub', ['sub', '-m', '0', '/bin/true']],
    ['qpy sub -W', ['sub', '-W', '-m', '0', '/bin/true']],
  ] as const) {
    cmds.push({ label: `${name} (snapshot)`, file: QPY, args: [...args], env: u.env, cwd: u.work });
    if (bundle) cmds.push({ label: `${name} (bundle)`, file: QPY, args: [...args], env: { ...u.env, QPY_NO_SNAPSHOT: '1' }, cwd: u.work });
  }
  const rows = interleave(cmds, rounds);
  return { node: rows.get('node -e 0')!, nodeWithCa: rows.get('node -e 0, NODE_EXTRA_CA_CERTS set') ?? null, rows };
}

/** One line per command: median, 25th percentile, minimum, CPU, and the median over `node -e 0`. */
export function startTable(f: StartFigures): string[] {
  const lines = [
    `${'command'.padEnd(36)} ${'median'.padStart(8)} ${'p25'.padStart(8)} ${'min'.padStart(8)} ${'CPU'.padStart(8)}   over node -e 0 (median / min)`,
  ];
  for (const [label, s] of f.rows) {
    const over = label.startsWith('node') ? '' : `+${(s.median - f.node.median).toFixed(1)} / +${(s.min - f.node.min).toFixed(1)} ms`;
    lines.push(`${label.padEnd(36)} ${ms(s.median)} ${ms(s.p25)} ${ms(s.min)} ${ms(s.cpu)}   ${over}`);
  }
  return lines;
}

const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(8);
