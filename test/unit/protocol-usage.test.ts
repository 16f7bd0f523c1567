/** Tests for src/protocol/usage.ts: a run's figures and the efficiency lines `qpy why` shows for an ended job. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { efficiencyLines, formatCpuTime, formatKB, runFigures } from '../../src/protocol/usage.js';
import type { Job, JobState } from '../../src/protocol/job.js';

const job = (state: JobState, cores = 4, memGB = 4): Job => ({
  id: 12,
  queuedAt: 0,
  spec: { command: 'x', cwd: '/w', cores, memGB, attrs: null },
  state,
});
const ended = (usage?: { userMs: number; sysMs: number; peakKB?: number }): JobState => ({
  type: 'done',
  node: 'node1',
  startedAt: 1_000,
  endedAt: 63_000,
  outcome: { type: 'exit', code: 0 },
  ...(usage ? { usage } : {}),
});

test('units: CPU time to the hundredth, memory in binary units', () => {
  assert.equal(formatCpuTime(58_104), '0:00:58.10');
  assert.equal(formatCpuTime(3_723_450), '1:02:03.45');
  assert.deepEqual([512, 61_440, 1_258_291].map(formatKB), ['512K', '60.0M', '1.20G']);
});

test('figures: CPU ÷ (cores × wall), peak ÷ requested; none where not measured', () => {
  const f = runFigures(job(ended({ userMs: 57_000, sysMs: 1_100, peakKB: 1_258_291 })), 0)!;
  assert.equal(f.wallMs, 62_000);
  assert.equal(f.cpuMs, 58_100);
  assert.ok(Math.abs(f.cpuShare! - 58_100 / (4 * 62_000)) < 1e-12);
  assert.ok(Math.abs(f.memShare! - 1_258_291 / (4 * 1024 * 1024)) < 1e-12);
  assert.equal(runFigures(job({ type: 'queue' }), 0), null);
  assert.deepEqual(runFigures(job(ended()), 0), { wallMs: 62_000, usage: null, cpuMs: null, cpuShare: null, memShare: null });
});

test('the efficiency lines of an ended job, like seff; nothing for one that has not ended', () => {
  assert.equal(
    efficiencyLines(job(ended({ userMs: 57_000, sysMs: 1_100, peakKB: 1_258_291 }))),
    'Job 12 ended done (exit 0) on node1; wall time 0:01:02.\n' +
      'CPU time 0:00:58.10 (user 0:00:57.00, system 0:00:01.10): 23.4% of 4 cores × 0:01:02.\n' +
      'Memory: peak 1.20G; 4 GB requested: 30.0%.\n',
  );
  assert.equal(
    efficiencyLines(job(ended({ userMs: 10, sysMs: 0 }), 1, 0)),
    'Job 12 ended done (exit 0) on node1; wall time 0:01:02.\n' +
      'CPU time 0:00:00.01 (user 0:00:00.01, system 0:00:00.00): 0.0% of 1 core × 0:01:02.\n' +
      'Memory: peak not sampled (a run of less than a second, or a node without bash 4.4); no memory requested.\n',
  );
  assert.equal(efficiencyLines(job(ended())), 'Job 12 ended done (exit 0) on node1; wall time 0:01:02.\nIts usage was not measured.\n');
  assert.equal(
    efficiencyLines(job({ type: 'node_failed', node: 'n2', startedAt: 0, endedAt: 1_000 })),
    'Job 12 ended node_failed (node went down) on n2; wall time 0:00:01.\nIts usage was not measured.\n',
  );
  assert.equal(efficiencyLines(job({ type: 'running', node: 'n', startedAt: 0, pid: 5, killRequested: false })), null);
  assert.equal(efficiencyLines(job({ type: 'undone', endedAt: 5 })), null);
});
