/**
 * `qpy-admin report`: its `--since`/`--until` words read against this
 * machine's clock and time zone, and the report as a table (the default) or
 * one JSON document (`--json`).
 */
import { QpyError } from '../errors.js';
import { parseTimeSpec } from '../protocol/time-spec.js';
import type { UsageReport } from '../protocol/usage-report.js';
import { JSON_VERSION } from '../cli/command.js';

/** A `--since`/`--until` word as ms since the epoch (undefined: not given); INVALID_ARGUMENT when malformed. */
export function timeOption(option: string, text: string | undefined, now: number): number | null {
  if (text === undefined) return null;
  const r = parseTimeSpec(text, { now, offsetMinutes: (ms) => -new Date(ms).getTimezoneOffset() });
  if (!r.ok) throw new QpyError('INVALID_ARGUMENT', `${option}: ${r.message}`);
  return r.at;
}

/** A moment as local `YYYY-MM-DD HH:MM`. */
export function localMinute(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const hours = (h: number): string => h.toFixed(2);

/** The report as one JSON document, versioned like every --json output. */
export function reportJson(r: UsageReport): string {
  return `${JSON.stringify({ qpy: JSON_VERSION, ...r })}\n`;
}

/** The report as a table: a heading, one row per user, the total, and how busy the cluster was. */
export function formatReport(r: UsageReport): string {
  const until = r.until >= r.now ? `${localMinute(r.now)} (now)` : localMinute(r.until);
  const from = r.since === null ? 'the oldest record' : localMinute(r.since);
  const head = `Usage from ${from} to ${until}; rules: ${r.rules}, ${r.totalCores} core${r.totalCores === 1 ? '' : 's'} taking jobs.\n`;
  if (r.users.length === 0) return `${head}No slot was held in this period.\n`;
  // GPU-HOURS only where some slot of the period held a GPU: the table stays as it was elsewhere.
  const gpu = (h: number | undefined): string[] => (r.total.gpuHours === undefined ? [] : [hours(h ?? 0)]);
  const rows: string[][] = [
    ['USER', 'CORE-HOURS', 'GB-HOURS', ...(r.total.gpuHours === undefined ? [] : ['GPU-HOURS']), 'JOBS', 'FAILED', 'SHARE', 'ENTITLED'],
    ...r.users.map((u) => [
      u.name,
      hours(u.coreHours),
      hours(u.gbHours),
      ...gpu(u.gpuHours),
      String(u.jobs),
      String(u.failed),
      pct(u.share),
      pct(u.entitlement),
    ]),
    [
      'total',
      hours(r.total.coreHours),
      hours(r.total.gbHours),
      ...gpu(r.total.gpuHours),
      String(r.total.jobs),
      String(r.total.failed),
      '',
      '',
    ],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const busy =
    r.capacityCoreHours !== null && r.capacityCoreHours > 0
      ? `The cluster held ${hours(r.total.coreHours)} of ${hours(r.capacityCoreHours)} core-hours (${pct(r.total.coreHours / r.capacityCoreHours)}).\n`
      : '';
  return `${head}${rows.map(line).join('\n')}\n${busy}`;
}
