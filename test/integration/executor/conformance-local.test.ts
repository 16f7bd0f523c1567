/** The executor conformance suite (conformance.ts) on this machine: the agent as a child process of the test. */
import { createLocalExecutor } from '../../../src/executor/local.js';
import { conformance } from './conformance.js';

conformance({
  name: 'local',
  skip: false,
  nodeName: 'node1',
  executor: (runDir, opts) => createLocalExecutor({ runDir, nodeName: 'node1', ...opts }),
});
