/**
 * GPUs end to end with real daemons (issue 16), on a node whose nodes file
 * says `gpus=2`: two 1-GPU jobs get different devices in their own
 * CUDA_VISIBLE_DEVICES (and QPY_GPUS); a third waits until one ends and
 * then gets the freed device; a job that asked for none sees
 * CUDA_VISIBLE_DEVICES set and empty; `-g` beyond the node is refused at
 * submission with the reason; bad `-g` values get one clear line; a
 * `#QPY gpus=` directive asks as `-g` does; check --json shows the request
 * and the devices of each run, and history's lines show them too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

/** A job that prints what it sees, then waits for its go file. */
const job = (id: number) =>
  `echo "cvd=[\${CUDA_VISIBLE_DEVICES-unset}] gpus=[\${QPY_GPUS-unset}]"; while [ ! -e go${id} ]; do sleep 0.05; done`;

test('two 1-GPU jobs get different devices, a third waits for one, a job without GPUs sees none', { timeout: 90_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=8 memory=32 gpus=2\n' });
  for (const id of [1, 2, 3]) assert.equal(await u.ok(['sub', '-m', '0.1', '-g', '1', job(id)]), `Job ${id} received.\n`);
  assert.equal(await u.ok(['sub', '-m', '0.1', job(4)]), 'Job 4 received.\n');
  const out = (id: number) => join(u.work, `job_${id}.out`);
  const seen = (id: number) => (existsSync(out(id)) ? readFileSync(out(id), 'utf8') : '');
  await waitFor(() => [1, 2, 4].every((id) => seen(id) !== ''), { what: 'jobs 1, 2 and 4 started' });
  const one = /cvd=\[(\d)\] gpus=\[(\d)\]/.exec(seen(1));
  const two = /cvd=\[(\d)\] gpus=\[(\d)\]/.exec(seen(2));
  assert.ok(one && two, `${seen(1)} ${seen(2)}`);
  assert.equal(one[1], one[2]);
  assert.deepEqual([one[1], two[1]].sort(), ['0', '1']);
  assert.equal(seen(4), 'cvd=[] gpus=[unset]\n');
  assert.match(await u.ok(['check', '3']), /^3 \(queue\)/);
  assert.match(
    await u.ok(['status']),
    /^GPUs: 2 of 2 in use\.\n {2}node localhost: 2 of 2 in use, 2 GPUs\n {2}user \S+: 2 in use, part 2$/m,
  );
  assert.match(await u.ok(['why', '3']), /Your share of the GPUs is in use \(or every GPU is\).*job 3 \(1 core and 0\.1 GB, 1 GPU\)/);

  writeFileSync(join(u.work, 'go1'), '');
  await waitFor(() => seen(3) !== '', { what: 'job 3 started once job 1 ended' });
  assert.equal(seen(3), `cvd=[${one[1]}] gpus=[${one[1]}]\n`);
  for (const id of [2, 3, 4]) writeFileSync(join(u.work, `go${id}`), '');
  await waitFor(async () => !/\((queue|running)\)/.test(await u.ok(['check'])), { what: 'all ended' });
  const { jobs } = JSON.parse(await u.ok(['check', '--json'])) as {
    jobs: { id: number; spec: { gpus?: number }; state: { gpus?: number[] } }[];
  };
  const byId = new Map(jobs.map((j) => [j.id, j]));
  assert.equal(byId.get(1)!.spec.gpus, 1);
  assert.deepEqual(byId.get(3)!.state.gpus, [Number(one[1])]);
  assert.equal(byId.get(4)!.spec.gpus, undefined);
  assert.equal(byId.get(4)!.state.gpus, undefined);
  // history: each run's GPUs and GPU-hours in its line (the default format's %g), and by %G and %H.
  const history = await u.ok(['history']);
  assert.match(history, new RegExp(`^3 \\(done\\):.* \\(on localhost; GPUs ${one[1]}, 0\\.\\d\\d GPU-hours; wd: `, 'm'));
  assert.match(history, /^4 \(done\):.* \(on localhost; wd: /m);
  assert.deepEqual((await u.ok(['history', '--format', '%j %G', '3', '4'])).split('\n').sort(), ['', `3 ${one[1]}`, '4 None']);
  const hours = new Map(
    (await u.ok(['history', '--format', '%j %H\n', '3', '4']))
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  assert.equal(hours.get('4'), 'None');
  assert.ok(Number(hours.get('3')) >= 0 && Number(hours.get('3')) < 0.1, `one GPU for seconds: ${hours.get('3')} GPU-hours`);
});

test('-g beyond every node is refused at submission with the reason; bad -g values; #QPY gpus=', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=4 memory=32 gpus=2\n' });
  const big = await u.qpy(['sub', '-g', '3', 'true']);
  assert.equal(big.code, 1);
  assert.match(big.stderr, /no node has 3 GPUs \(the most any has is 2/);
  for (const bad of ['-1', '1.5', 'two']) {
    const r = await u.qpy(['sub', '-g', bad, 'true']);
    assert.equal(r.code, 1, bad);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /-g needs a whole number of GPUs, 0 or more/);
  }
  writeFileSync(join(u.work, 'gpu.sh'), '#!/bin/sh\n#QPY gpus=2\necho "[$CUDA_VISIBLE_DEVICES]"\n', { mode: 0o755 });
  assert.equal(await u.ok(['sub', '-m', '0.1', './gpu.sh']), 'Job 1 received.\n');
  await waitFor(async () => /1 \(done\)/.test(await u.ok(['check'])), { what: 'job 1 done' });
  assert.equal(readFileSync(join(u.work, 'job_1.out'), 'utf8'), '[0,1]\n');
  writeFileSync(join(u.work, 'bad.sh'), '#!/bin/sh\n#QPY gpus=-1\n', { mode: 0o755 });
  const r = await u.qpy(['sub', './bad.sh']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.sh, line 2: Invalid value for gpus: -1/);
});
