/**
 * The executor conformance suite: one set of tests that every transport must
 * pass (conformance-local.test.ts: the agent as a child process;
 * conformance-ssh.test.ts: the agent on a real sshd node;
 * pilot/conformance-pilot.test.ts: the agent served by a Slurm pilot's
 * program over its link back to the master), each with the
 * agent under bash and under a POSIX sh. Launch, end status, output reading,
 * kill (TERM, then KILL after the grace), adoption by a new executor, the
 * reused-group guard, liveness probes, the agent's death, and the output
 * files a launch names (conformance-output.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readText } from '../../../src/executor/run-files.js';
import { join } from 'node:path';
import type { Executor } from '../../../src/executor/executor.js';
import type { AgentShell } from '../../../src/executor/agent-script.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { isAlive } from '../../helpers/procs.js';
import { bare, childrenOf, collect, groupMembers, parentOf, spec } from './util.js';
import { outputConformance } from './conformance-output.js';

export interface ExecutorOptions {
  agentShell: AgentShell;
  pollMs: number;
  launchedPollAfterMs?: number;
}

/** A transport under test: how to make an executor on one node of it. */
export interface TransportUnderTest {
  name: string;
  skip: string | false;
  /** The node's name (QPY_NODE). */
  nodeName: string;
  executor(runDir: string, opts: ExecutorOptions): Executor;
}

const SHELLS: AgentShell[] = ['auto', 'sh'];

/** This process's descriptors past 2 that a child it starts inherits (no close-on-exec). */
function inheritedDescriptors(): Set<string> {
  const CLOEXEC = 0o2000000;
  return new Set(
    readdirSync('/proc/self/fd').filter((fd) => {
      const flags = /^flags:\s*([0-7]+)/m.exec(readText(`/proc/self/fdinfo/${fd}`) ?? '')?.[1];
      return Number(fd) > 2 && flags !== undefined && (Number.parseInt(flags, 8) & CLOEXEC) === 0;
    }),
  );
}

export function conformance(tr: TransportUnderTest): void {
  const open: Executor[] = [];
  const make = (runDir: string, opts: Partial<ExecutorOptions> & { agentShell: AgentShell }) => {
    const ex = tr.executor(runDir, { pollMs: 50, ...opts });
    open.push(ex);
    return { ex, ...collect(ex) };
  };
  const closeAll = () => Promise.all(open.splice(0).map((ex) => ex.close()));
  const skip = tr.skip;

  for (const agentShell of SHELLS) {
    const name = (what: string) => `${tr.name}, ${agentShell} agent: ${what}`;

    test(name('launch: exit statuses, the environment, quoting, a missing directory'), { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      const wd = join(tmp.path, `a dir/it's "x" $HOME`);
      mkdirSync(wd, { recursive: true });
      await ex.launch(spec(1, 'exit 0', wd));
      await ex.launch(
        spec(2, `printf '%s|%s|%s\\n%s\\n' "$QPY_JOB_ID" "$QPY_NODE" 'a  b' "[$ODD]"; echo oops >&2; exit 3`, wd, { ODD: `a 'é' $d\nx` }),
      );
      await ex.launch(spec(3, 'touch ran', join(tmp.path, 'nope')));
      assert.deepEqual((await ended(1)).outcome, { type: 'exit', code: 0 });
      assert.deepEqual((await ended(2)).outcome, { type: 'exit', code: 3 });
      assert.equal(readFileSync(join(wd, 'job_2.out'), 'utf8'), `2|${tr.nodeName}|a  b\n[a 'é' $d\nx]\n`);
      assert.equal(readFileSync(join(wd, 'job_2.err'), 'utf8'), 'oops\n');
      const e = await ended(3);
      assert.deepEqual(e.outcome, { type: 'exit', code: 126 });
      assert.match(e.error ?? '', /does not exist/);
      // How its agent keeps limits and measures usage, as status shows it: bash 4.4+ with /proc does, sh cannot.
      assert.equal(ex.limitsOn(tr.nodeName), agentShell === 'sh' ? 'none' : 'proc');
      // A plain command whose program is a script without #! runs under sh, as with sh -c; one
      // missing ends 127 with the shell's word in job_N.err.
      writeFileSync(join(wd, 'nosb'), '[ -n "$BASH_VERSION" ] && echo bash || echo sh\n', { mode: 0o755 });
      await ex.launch(spec(16, './nosb', wd));
      assert.deepEqual((await ended(16)).outcome, { type: 'exit', code: 0 });
      assert.equal(readFileSync(join(wd, 'job_16.out'), 'utf8'), 'sh\n');
      await ex.launch(spec(17, './missing-program a', wd));
      assert.deepEqual((await ended(17)).outcome, { type: 'exit', code: 127 });
      assert.match(readFileSync(join(wd, 'job_17.err'), 'utf8'), /missing-program/);
      // The agent works in the C locale, but never passes it on: a job gets the locale it was given.
      await ex.launch(spec(18, `printf '%s' "\${LC_ALL-unset}"`, wd));
      assert.deepEqual((await ended(18)).outcome, { type: 'exit', code: 0 });
      if (process.env['LC_ALL'] === undefined) assert.equal(readFileSync(join(wd, 'job_18.out'), 'utf8'), 'unset');
      await closeAll();
    });

    test(name('a job inherits none of its agent’s descriptors, no ignored SIGPIPE, and no limit of the agent’s start'), {
      skip,
    }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      // Exec'd directly under a bash agent, through sh under an sh agent.
      await ex.launch(spec(20, 'ls /proc/self/fd', tmp.path));
      await ex.launch(spec(21, 'cat /proc/self/status /proc/self/limits', tmp.path));
      for (const id of [20, 21]) assert.deepEqual((await ended(id)).outcome, { type: 'exit', code: 0 });
      // ls's own descriptor for the directory is the only one past 2, but for those this test process
      // passes to every child it starts (a local agent is one) without close-on-exec: the environment's.
      const passedOn = inheritedDescriptors();
      const fds = readFileSync(join(tmp.path, 'job_20.out'), 'utf8').split('\n').filter(Boolean);
      assert.deepEqual(
        fds.filter((fd) => !passedOn.has(fd)),
        ['0', '1', '2', '3'],
      );
      const status = readFileSync(join(tmp.path, 'job_21.out'), 'utf8');
      const ignored = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1];
      assert.ok(ignored !== undefined);
      assert.equal(BigInt(`0x${ignored}`) & (1n << 12n), 0n, `SIGPIPE ignored: SigIgn ${ignored}`);
      // A bash agent starts under a lower process limit (a smaller table of its children), then gives it back.
      const maxProcesses = (text: string) => /^Max processes\s+(\S+)/m.exec(text)?.[1];
      assert.equal(maxProcesses(status), maxProcesses(readFileSync('/proc/self/limits', 'utf8')));
      await closeAll();
    });

    test(name('many jobs at once each end once with their own status'), { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended, ends } = make(join(tmp.path, 'run'), { agentShell });
      await Promise.all(Array.from({ length: 100 }, (_, i) => ex.launch(spec(100 + i, `exit ${i % 5}`, tmp.path))));
      for (let i = 0; i < 100; i++) assert.deepEqual((await ended(100 + i)).outcome, { type: 'exit', code: i % 5 });
      assert.equal(ends.size, 100);
      await closeAll();
    });

    test(name('output is read on the node, any range'), { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      await ex.launch(spec(4, `printf 'hello\\n'; head -c 100000 /dev/zero | tr '\\0' z`, tmp.path));
      await ended(4);
      const out = join(tmp.path, 'job_4.out');
      assert.equal((await ex.readOutput(4, out, 0, 6)).toString(), 'hello\n');
      assert.equal((await ex.readOutput(4, out, 6, 200_000)).length, 100_000);
      assert.equal((await ex.readOutput(4, out, 100_006, 10)).length, 0);
      assert.equal((await ex.readOutput(4, join(tmp.path, 'missing'), 0, 10)).length, 0);
      await closeAll();
    });

    // An sh agent keeps no limits: only the waiting (bash) agent is tested for them.
    if (agentShell !== 'sh')
      test(name('a time limit: TERM at the limit, KILL after the grace, kept by the agent while no master is there'), {
        skip,
      }, async () => {
        await using tmp = tempDir();
        const runDir = join(tmp.path, 'run');
        const { ex, ended } = make(runDir, { agentShell });
        const t0 = performance.now();
        await ex.launch({ ...spec(30, 'sleep 300', tmp.path), timeLimit: { seconds: 1, graceMs: 5_000 } });
        await ex.launch({ ...spec(31, `trap '' TERM; sleep 300`, tmp.path), timeLimit: { seconds: 1, graceMs: 300 } });
        await ex.launch({ ...spec(32, 'exit 0', tmp.path), timeLimit: { seconds: 60, graceMs: 300 } });
        assert.deepEqual(bare(await ended(30)), { jobId: 30, outcome: { type: 'signal', signal: 'TERM' }, limit: 'time' });
        const took = performance.now() - t0;
        assert.ok(took >= 900 && took < 4_000, `ended ${Math.round(took)} ms after its launch, for a limit of 1 s`);
        assert.deepEqual(bare(await ended(31)), { jobId: 31, outcome: { type: 'signal', signal: 'KILL' }, limit: 'time' });
        assert.deepEqual(bare(await ended(32)), { jobId: 32, outcome: { type: 'exit', code: 0 } }, 'a job within its limit ends as usual');
        // The master goes away after the launch: the agent keeps the limit, records it, and the next life reads it.
        const { pid } = await ex.launch({ ...spec(33, 'sleep 300', tmp.path), timeLimit: { seconds: 1, graceMs: 5_000 } });
        await closeAll();
        await waitFor(() => readFileSync(join(runDir, '33.run'), 'utf8').endsWith('exit 143 time\n'), {
          what: 'the limit kept with no master',
        });
        const next = make(runDir, { agentShell });
        assert.equal(await next.ex.adopt(33, pid), 'ended');
        assert.deepEqual(bare(await next.ended(33)), { jobId: 33, outcome: { type: 'signal', signal: 'TERM' }, limit: 'time' });
        await closeAll();
      });

    if (agentShell !== 'sh')
      test(name('a memory limit: a job growing past it is stopped, its neighbour goes on'), { skip }, async () => {
        await using tmp = tempDir();
        const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
        // A shell that grows by about 1 MB every 50 ms, in a child of the job's process (the walk follows it).
        const grow = `head -c 1000000 /dev/zero | tr '\\000' a >blob; sh -c 'x=$(cat blob); y=; while :; do y="$y$x"; sleep 0.05; done'; :`;
        const neighbour = await ex.launch({ ...spec(40, 'sleep 300', tmp.path), memLimit: { kb: 20_000, graceMs: 2_000 } });
        const t0 = performance.now();
        await ex.launch({ ...spec(41, grow, tmp.path), memLimit: { kb: 30_000, graceMs: 2_000 } });
        assert.deepEqual(bare(await ended(41)), { jobId: 41, outcome: { type: 'signal', signal: 'TERM' }, limit: 'memory' });
        assert.ok(performance.now() - t0 < 20_000, 'stopped within seconds of crossing its limit');
        assert.ok(isAlive(neighbour.pid), 'the neighbour, within its own limit, goes on');
        await ex.kill(40, neighbour.pid, 1_000);
        assert.deepEqual((await ended(40)).outcome, { type: 'signal', signal: 'TERM' });
        await closeAll();
      });

    test(name('kill: TERM ends a job and its children; one that ignores TERM is KILLed after the grace'), { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      const a = await ex.launch(spec(5, 'sleep 300 & sleep 300 & wait', tmp.path));
      // The command's shell and its two sleeps, and the wrapper where there is one.
      const wrapper = agentShell === 'sh' ? 1 : 0;
      await waitFor(() => groupMembers(a.pid).length >= 3 + wrapper, { what: 'job processes' });
      await ex.kill(5, a.pid, 5_000);
      assert.deepEqual((await ended(5)).outcome, { type: 'signal', signal: 'TERM' });
      await waitFor(() => groupMembers(a.pid).length === 0, { what: 'no process of the group' });
      const b = await ex.launch(spec(6, `trap '' TERM; sleep 300 & wait`, tmp.path));
      await waitFor(() => groupMembers(b.pid).length >= 2 + wrapper, { what: 'job processes' });
      const t0 = performance.now();
      await ex.kill(6, b.pid, 300);
      assert.ok(performance.now() - t0 >= 290, 'KILL came after the grace');
      assert.deepEqual((await ended(6)).outcome, { type: 'signal', signal: 'KILL' });
      await waitFor(() => groupMembers(b.pid).length === 0, { what: 'no process of the group' });
      await closeAll();
    });

    test(name('a new executor adopts running and ended jobs, blocks a launch it never saw, relaunches with the next key'), {
      skip,
    }, async () => {
      await using tmp = tempDir();
      const runDir = join(tmp.path, 'run');
      const first = make(runDir, { agentShell });
      const long = await first.ex.launch(spec(7, 'sleep 300', tmp.path));
      const short = await first.ex.launch(spec(8, 'sleep 0.3; exit 4', tmp.path));
      await waitFor(() => readFileSync(join(runDir, '7.run'), 'utf8').endsWith('\n'), { what: 'claim' });
      await first.ex.close(); // the master "dies": jobs go on
      await waitFor(() => readFileSync(join(runDir, '8.run'), 'utf8').includes('exit 4'), { what: 'short job over' });
      const second = make(runDir, { agentShell });
      assert.equal(await second.ex.adopt(7, long.pid), 'running');
      assert.equal(second.ex.pidOf(7), long.pid);
      assert.equal(await second.ex.adopt(8, short.pid), 'ended');
      assert.deepEqual((await second.ended(8)).outcome, { type: 'exit', code: 4 });
      assert.equal(await second.ex.adopt(8, short.pid), 'ended');
      assert.equal(await second.ex.adopt(9, null), 'never_started');
      assert.equal(readFileSync(join(runDir, '9.run'), 'utf8'), 'none\n');
      await second.ex.kill(7, long.pid, 2_000);
      assert.deepEqual((await second.ended(7)).outcome, { type: 'signal', signal: 'TERM' });
      await second.ex.launch(spec(9, 'exit 0', tmp.path));
      assert.deepEqual((await second.ended(9)).outcome, { type: 'exit', code: 0 });
      assert.match(readFileSync(join(runDir, '9.a1.run'), 'utf8'), /exit 0/);
      second.ex.forget(9);
      await waitFor(
        () => {
          try {
            readFileSync(join(runDir, '9.a1.run'));
            return false;
          } catch {
            return true;
          }
        },
        { what: 'run files of a forgotten job removed' },
      );
      assert.equal(first.ends.size, 0, 'the dead life reports nothing');
      await closeAll();
    });

    test(name('kill of a job whose run file records its end never signals its group (a reused id)'), { skip }, async () => {
      await using tmp = tempDir();
      const runDir = join(tmp.path, 'run');
      mkdirSync(runDir, { recursive: true });
      // A process group that is not the job's: the id of a job that ended, reused.
      const other = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
      const pgid = other.pid!;
      try {
        writeFileSync(join(runDir, '10.run'), `${pgid}\nexit 0\n`);
        const { ex } = make(runDir, { agentShell });
        await ex.kill(10, pgid, 100);
        assert.ok(isAlive(pgid), 'the unrelated group was left alone');
        // Adopted first (its end is reported), then killed: still nothing is signalled.
        assert.equal(await ex.adopt(10, pgid), 'ended');
        await ex.kill(10, pgid, 100);
        assert.ok(isAlive(pgid), 'the unrelated group was left alone');
      } finally {
        other.kill('SIGKILL');
        await closeAll();
      }
    });

    test(name('probes: a claim whose pid is another process ends as lost; a wrapper killed behind our back is found'), {
      skip,
    }, async () => {
      await using tmp = tempDir();
      const runDir = join(tmp.path, 'run');
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, '11.run'), `${process.pid}\n`); // the wrapper died; its pid is reused by this test
      const { ex, ended } = make(runDir, { agentShell, launchedPollAfterMs: 100 });
      assert.equal(await ex.adopt(11, process.pid), 'ended');
      assert.deepEqual((await ended(11)).outcome, { type: 'lost' });
      const { pid } = await ex.launch(spec(12, 'sleep 300; :', tmp.path));
      const [cmd] = await waitFor(() => (childrenOf(pid).length ? childrenOf(pid) : null), { what: 'command process' });
      // bash is the waiter of the command's shell: it records the KILL. Under sh this is the wrapper,
      // which then cannot record or tell anything.
      process.kill(pid, 'SIGKILL');
      assert.deepEqual((await ended(12)).outcome, agentShell === 'sh' ? { type: 'lost' } : { type: 'signal', signal: 'KILL' });
      process.kill(cmd!, 'SIGKILL');
      // A command that kills its own process (under sh, its wrapper: `$$` is the wrapper's pid).
      await ex.launch(spec(15, 'kill -KILL $$', tmp.path));
      assert.deepEqual((await ended(15)).outcome, agentShell === 'sh' ? { type: 'lost' } : { type: 'signal', signal: 'KILL' });
      await closeAll();
    });

    test(name('the agent killed: its jobs are still reported, and the next launch starts a new agent'), { skip }, async () => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), { agentShell });
      const { pid } = await ex.launch(spec(13, 'sleep 0.5; exit 3', tmp.path));
      await waitFor(() => readFileSync(join(tmp.path, 'run', '13.run'), 'utf8').endsWith('\n'), { what: 'claim' });
      const agent = parentOf(pid);
      process.kill(agent, 'SIGKILL');
      // A wrapper records its job's end; a waiter agent killed takes the end of its jobs with it.
      assert.deepEqual((await ended(13)).outcome, agentShell === 'sh' ? { type: 'exit', code: 3 } : { type: 'lost' });
      const b = await waitFor(() => ex.launch(spec(14, 'sleep 1; exit 2', tmp.path)).catch(() => null), {
        what: 'a launch on a new agent',
      });
      assert.notEqual(parentOf(b.pid), agent);
      assert.deepEqual((await ended(14)).outcome, { type: 'exit', code: 2 });
      await closeAll();
    });
  }
  outputConformance(tr.name, skip, SHELLS, make, closeAll);
}
