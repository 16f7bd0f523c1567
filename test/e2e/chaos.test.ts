/**
 * The chaos test of issue 13 (test/helpers/chaos.ts): 1,000 short jobs of two
 * users on a real qpy-multiuser, with their masters and then qpy-multiuser
 * SIGKILLed every 1–5 s (seeded: QPY_CHAOS_SEED replays a run) and restarted
 * as the CLIs would. Nothing lost, nothing run twice, nothing killed, never
 * more running than cores. bench/chaos runs it longer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos, formatChaosReport } from '../helpers/chaos.js';
import { seedFrom } from '../helpers/prng.js';

test('chaos: 1,000 jobs while masters and then qpy-multiuser are SIGKILLed every 1–5 s: 0 lost, 0 run twice, 0 killed, never more running than cores', {
  timeout: 240_000,
}, async (t) => {
  const seed = seedFrom(process.env['QPY_CHAOS_SEED']);
  const report = await runChaos({
    seed,
    jobs: 1000,
    users: 2,
    cores: 8,
    jobSeconds: '0.3',
    killEveryMs: [1000, 5000],
    deadlineMs: 150_000,
  });
  const text = formatChaosReport(report);
  for (const line of text.split('\n')) t.diagnostic(line);
  assert.equal(report.findings.length, 0, `replay with QPY_CHAOS_SEED=${seed}:\n${text}`);
  assert.ok(report.masterKills > 0 && report.multiuserKills > 0, `both daemons were killed:\n${text}`);
  assert.ok(report.maxRunning > 1, `jobs ran side by side:\n${text}`);
});
