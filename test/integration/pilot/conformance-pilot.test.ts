/**
 * The executor conformance suite (executor/conformance.ts) over a pilot's
 * link: the agent started by the pilot program (a child process of this
 * test, as Slurm would start it) and reached through the master's pilot hub.
 * The pilot shares this machine's file system and process table.
 */
import { before, after } from 'node:test';
import { createTracker } from '../../../src/executor/tracker.js';
import { conformance, type TransportUnderTest } from '../executor/conformance.js';
import { usageConformance } from '../executor/conformance-usage.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { startHub, startPilotProcess, type Hub, type PilotProcess } from './setup.js';

let tmp: TempDir | undefined;
let hub: Hub | undefined;
let pilot: PilotProcess | undefined;

before(async () => {
  tmp = tempDir();
  hub = await startHub(tmp.path);
  pilot = startPilotProcess(hub.file);
  await waitFor(() => hub!.hub.connected('p1', '101'), { what: 'the pilot connected' });
});
after(async () => {
  pilot?.child.kill('SIGTERM');
  await pilot?.exited;
  await hub?.hub.close();
  await tmp?.[Symbol.asyncDispose]();
});

const transport: TransportUnderTest = {
  name: 'pilot',
  skip: false,
  nodeName: 'pilot-101',
  executor: (runDir, opts) =>
    createTracker({
      nodeName: 'pilot-101',
      runDir,
      transport: hub!.hub.transportFor('p1', '101', { agentShell: opts.agentShell }),
      pollMs: opts.pollMs,
      ...(opts.launchedPollAfterMs !== undefined ? { launchedPollAfterMs: opts.launchedPollAfterMs } : {}),
    }),
};
conformance(transport);
usageConformance(transport);
