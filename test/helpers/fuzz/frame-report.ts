/**
 * What a frame fuzz run (frame-fuzz.ts) tried and found: the report it
 * fills, and its text for a test's or a bench's output.
 */

export interface FuzzReport {
  seed: number;
  frames: number;
  /** Frames sent, by target and kind. */
  tried: Map<string, number>;
  /** What came back, by kind (`error BAD_REQUEST`, `submitted`, `closed 1007`…). */
  answers: Map<string, number>;
  findings: string[];
  ms: number;
}

/** Add `n` to the count of `k`. */
export const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** What a run tried and found, as lines for a test's or a bench's output. */
export function formatReport(r: FuzzReport): string {
  const kinds = new Map<string, number>();
  for (const [k, n] of r.tried) bump(kinds, k.replace(/^.* (\S+)$/, '$1').replace(/^valid:.*/, 'valid'), n);
  const byTarget = new Map<string, number>();
  for (const [k, n] of r.tried) bump(byTarget, k.replace(/ \S+$/, ''), n);
  const valid = new Map<string, number>();
  for (const [k, n] of r.tried) if (/ valid:/.test(k)) bump(valid, k.replace(/^.* valid:/, ''), n);
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return [
    `frame fuzz: seed ${r.seed}, ${r.frames} frames in ${(r.ms / 1000).toFixed(1)} s`,
    `  tried, by target: ${list(byTarget)}`,
    `  tried, by kind: ${list(kinds)}`,
    `  valid requests: ${list(valid)}`,
    `  answers: ${list(r.answers)}`,
    `  found: ${r.findings.length === 0 ? 'nothing' : `${r.findings.length} problems:`}`,
    ...r.findings.map((f) => `    - ${f}`),
  ].join('\n');
}
