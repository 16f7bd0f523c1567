/**
 * The conformance suite's part on output files (conformance.ts runs it on
 * each transport, with each agent shell): a launch that names its output
 * files writes there (relative to the job's directory, in a subdirectory,
 * absolute, with odd characters; standard error into standard output's file
 * when both are the same), and one whose file's directory does not exist
 * fails as a setup error, running nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, JobEnded } from '../../../src/executor/executor.js';
import type { AgentShell } from '../../../src/executor/agent-script.js';
import { tempDir } from '../../helpers/temp.js';
import { spec } from './util.js';

type Make = (runDir: string, opts: { agentShell: AgentShell }) => { ex: Executor; ended(id: number): Promise<JobEnded> };

export function outputConformance(
  trName: string,
  skip: string | false,
  shells: AgentShell[],
  make: Make,
  closeAll: () => Promise<unknown>,
) {
  for (const agentShell of shells) {
    test(`${trName}, ${agentShell} agent: output files the launch names, and a directory of theirs missing`, { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      const wd = join(tmp.path, 'wd');
      mkdirSync(join(wd, `logs "it's" $x`), { recursive: true });
      const abs = join(tmp.path, 'elsewhere.err');
      await ex.launch({ ...spec(31, 'echo out; echo err >&2', wd), out: `logs "it's" $x/a-31.out`, err: abs });
      await ex.launch({ ...spec(32, 'echo one; echo two >&2; echo three', wd), out: 'both.log', err: 'both.log' });
      await ex.launch({ ...spec(33, 'touch ran', wd), out: 'missing/33.out', err: 'job_33.err' });
      assert.deepEqual((await ended(31)).outcome, { type: 'exit', code: 0 });
      assert.equal(readFileSync(join(wd, `logs "it's" $x/a-31.out`), 'utf8'), 'out\n');
      assert.equal(readFileSync(abs, 'utf8'), 'err\n');
      assert.equal(existsSync(join(wd, 'job_31.out')), false, 'the default files are not made');
      assert.deepEqual((await ended(32)).outcome, { type: 'exit', code: 0 });
      assert.equal(readFileSync(join(wd, 'both.log'), 'utf8'), 'one\ntwo\nthree\n', 'one file, in order');
      const e = await ended(33);
      assert.deepEqual(e.outcome, { type: 'exit', code: 126 });
      assert.match(e.error ?? '', /cannot create its output files/);
      assert.equal(existsSync(join(wd, 'ran')), false, 'nothing ran');
      await closeAll();
    });
  }
}
