/**
 * qpy-master under V8's CPU profiler, for bench/dispatch-queue's BENCH_PROFILE
 * (`node --cpu-prof` is refused in NODE_OPTIONS, and qpy starts its master
 * itself): the profile of its whole life is written into BENCH_PROFILE as
 * master-PID.cpuprofile when it exits (SIGTERM stops it cleanly).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env['BENCH_PROFILE'] ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  // A session on the same thread answers synchronously: the file is written before the process ends.
  session.post('Profiler.stop', (err, r) => {
    if (err === null) writeFileSync(join(dir, `master-${process.pid}.cpuprofile`), JSON.stringify(r.profile));
  });
});
const { masterMain } = await import('../src/daemons/master/main.js');
await masterMain(process.argv);
