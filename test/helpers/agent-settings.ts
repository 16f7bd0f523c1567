/**
 * A local agent transport whose agent gets one more line of shell after its
 * start-up: a setting of the agent's own (`_q_smp=0`: no sampling, for
 * bench/limits-sampler's baseline; `_q_sn=0`: sampling at every sweep, for
 * the stress test that provokes reads of /proc racing with reaping), sent as
 * its first request frame (a bash agent's, which reads frames).
 */
import { localTransport } from '../../src/executor/local.js';
import type { AgentTransport } from '../../src/executor/agent-link.js';
import { frameRequests } from '../../src/executor/agent-script.js';

export function agentWith(line: string): AgentTransport {
  const local = localTransport('auto');
  return {
    ...local,
    async open() {
      const ch = await local.open();
      let first = true;
      return {
        ...ch,
        write(text: string) {
          ch.write(first ? `${text}${frameRequests(`${line}\n`, 'block')}` : text);
          first = false;
        },
      };
    },
  };
}
