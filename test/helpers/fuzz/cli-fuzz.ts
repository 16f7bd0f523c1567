/**
 * The CLI-argument fuzzer: random `qpy` invocations (commands, options, IDs
 * and ranges, attribute expressions, unicode, very long arguments, unknown
 * words) against a running master. Each must exit 0 or 1; an error is
 * exactly one line on stderr (help text, which starts with `Usage:`, aside),
 * never a stack trace or an internal error; and the master must be the same
 * live process afterwards. Commands that would wait forever (wait, follow),
 * stop or replace the master (finish, restart), reach the network (join) or
 * start the queue (ctrlQueue continue) are never generated: the master's
 * queue stays paused, so nothing submitted here runs.
 *
 * The command lines come from cli-invocations.ts.
 */
import type { RunResult } from '../qpy.js';
import { pidAlive } from '../../../src/discovery.js';
import { randomInvocation } from './cli-invocations.js';
import { Rng } from '../prng.js';

export interface CliFuzzOptions {
  seed: number;
  count: number;
  /** Run `qpy ARGS` (with `input` on standard input) as the user whose master is attacked. */
  run(args: string[], input?: string): Promise<RunResult>;
  /** The master's pid now (null: none). */
  masterPid(): number | null;
  /** Invocations run at once. */
  concurrency?: number;
}

export interface CliFuzzReport {
  seed: number;
  count: number;
  tried: Map<string, number>;
  exits: Map<string, number>;
  findings: string[];
  ms: number;
}

/** A command line as a report shows it (long arguments cut). */
const shown = (args: string[]) => JSON.stringify(args.map((a) => (a.length > 60 ? `${a.slice(0, 30)}…(${a.length} chars)` : a)));

export async function fuzzCli(opts: CliFuzzOptions): Promise<CliFuzzReport> {
  const rng = new Rng(opts.seed);
  const invocations = Array.from({ length: opts.count }, () => randomInvocation(rng));
  const report: CliFuzzReport = { seed: opts.seed, count: opts.count, tried: new Map(), exits: new Map(), findings: [], ms: 0 };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const find = (s: string) => void (report.findings.length < 100 && report.findings.push(s));
  const pid = opts.masterPid();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < invocations.length) {
      const inv = invocations[next++]!;
      bump(report.tried, inv.args[0] === undefined ? '(none)' : /^[a-zA-Z-]{1,20}$/.test(inv.args[0]) ? inv.args[0] : '(odd word)');
      let r: RunResult;
      try {
        r = await opts.run(inv.args, inv.input);
      } catch (err) {
        find(`cannot run qpy ${shown(inv.args)}: ${(err as Error).message}`);
        continue;
      }
      bump(report.exits, `exit ${r.code}`);
      const err = r.stderr.replace(/\n$/, '');
      if (r.code !== 0 && r.code !== 1) find(`exit ${r.code}: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (/\n\s+at |node:internal|\.js:\d+:\d+/.test(r.stderr + r.stdout))
        find(`a stack trace: qpy ${shown(inv.args)}: ${err.slice(0, 500)}`);
      if (/internal error|INTERNAL/.test(err)) find(`an internal error: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (r.code === 1 && !/^Usage:|\nUsage:/.test(err) && err.split('\n').length !== 1)
        find(`${err.split('\n').length} lines on stderr: qpy ${shown(inv.args)}: ${err.slice(0, 300)}`);
      if (r.code === 1 && err === '') find(`exit 1 with nothing on stderr: qpy ${shown(inv.args)}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  report.ms = Math.round(performance.now() - started);
  const now = opts.masterPid();
  if (pid === null || now !== pid || !pidAlive(pid)) find(`the master did not survive: pid ${pid} before, ${now} after`);
  return report;
}

export function formatCliReport(r: CliFuzzReport): string {
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return [
    `CLI fuzz: seed ${r.seed}, ${r.count} qpy invocations in ${(r.ms / 1000).toFixed(1)} s`,
    `  tried: ${list(r.tried)}`,
    `  exits: ${list(r.exits)}`,
    `  found: ${r.findings.length === 0 ? 'nothing' : `${r.findings.length} problems:`}`,
    ...r.findings.map((f) => `    - ${f}`),
  ].join('\n');
}
