/** The executor conformance suite (conformance.ts) on this machine: the agent as a child process of the test. */
import { createLocalExecutor } from '../../../src/executor/local.js';
import { conformance, type TransportUnderTest } from './conformance.js';
import { usageConformance } from './conformance-usage.js';

const transport: TransportUnderTest = {
  name: 'local',
  skip: false,
  nodeName: 'node1',
  executor: (runDir, opts) => createLocalExecutor({ runDir, nodeName: 'node1', ...opts }),
};
conformance(transport);
usageConformance(transport);
