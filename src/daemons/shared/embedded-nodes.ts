/**
 * The nodes of the embedded default: the user's own `nodes` file if there is
 * one, else this machine alone. Nodes at `localhost` run jobs locally, and
 * one without `cores=` or `memory=` gets this machine's count. Any other
 * address (a host name, an IP, an ssh_config alias) is reached over SSH
 * (executor/ssh.ts) and must state its cores and memory.
 */
import { availableParallelism, totalmem, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseNodesFile } from '../../allocator/nodes-file.js';
import type { NodeSpec } from '../../allocator/state.js';
import type { PoolConfig } from '../../allocator/pool-line.js';
import { QpyError } from '../../errors.js';
import { isLocalAddress } from '../../protocol/cluster.js';

export function localMachineGB(): number {
  return Math.round((totalmem() / 1024 ** 3) * 10) / 10;
}

/** This machine as the only node. */
export function defaultNodes(): NodeSpec[] {
  return [
    {
      name: 'localhost',
      address: 'localhost',
      cores: availableParallelism(),
      memGB: localMachineGB(),
      attributes: [],
      prefMulticore: false,
      checkDir: null,
    },
  ];
}

/**
 * Read the personal nodes file at `path`. Missing file: the default node.
 * A bad file is a QpyError (NODES_FILE) naming the line.
 */
export function loadEmbeddedNodes(path: string): { nodes: NodeSpec[]; pools: PoolConfig[]; fromFile: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nodes: defaultNodes(), pools: [], fromFile: false };
    throw new QpyError('NODES_FILE', `cannot read ${path}: ${(err as Error).message}`);
  }
  const { nodes, pools } = parseNodesAndPools(text, path);
  if (nodes.length === 0 && pools.length === 0)
    throw new QpyError('NODES_FILE', `${path} lists no nodes`, `remove the file to use this machine (${hostname()}) alone`);
  return { nodes, pools, fromFile: true };
}

/**
 * Parse a nodes file (`path` names it in messages) into nodes of known
 * capacity: a node at this machine without `cores=`/`memory=` gets this
 * machine's; a remote one must state them, unless `probed` (the shared
 * daemon probes its nodes): it then starts at 0 until its probe answers.
 * Problems are NODES_FILE errors.
 */
export function parseNodesAndPools(text: string, path: string, probed = false): { nodes: NodeSpec[]; pools: PoolConfig[] } {
  const parsed = parseNodesFile(text);
  if (!parsed.ok) throw new QpyError('NODES_FILE', `${path}, ${parsed.message}`);
  const nodes: NodeSpec[] = [];
  for (const n of parsed.nodes) {
    if (probed && !isLocalAddress(n.address)) nodes.push({ ...n, cores: n.cores ?? 0, memGB: n.memGB ?? 0 });
    else if (!isLocalAddress(n.address)) {
      if (n.cores == null || n.memGB == null) {
        throw new QpyError(
          'NODES_FILE',
          `${path}: remote node ${n.name} needs its cores and memory`,
          `for example: ${n.name} address=${n.address} cores=16 memory=64`,
        );
      }
      nodes.push({ ...n, cores: n.cores, memGB: n.memGB });
    } else nodes.push({ ...n, cores: n.cores ?? availableParallelism(), memGB: n.memGB ?? localMachineGB() });
  }
  const taken = new Set(nodes.map((n) => n.name));
  for (const pool of parsed.pools) {
    // A pilot's node is POOL-JOBID: a node of the file named so would clash with it.
    const clash = [...taken].find((name) => name.startsWith(`${pool.name}-`) && /^[0-9]+$/.test(name.slice(pool.name.length + 1)));
    if (clash !== undefined)
      throw new QpyError('NODES_FILE', `${path}, line ${pool.line}: node ${clash} has the name a pilot of pool ${pool.name} would get`);
  }
  return { nodes, pools: parsed.pools };
}

/**
 * As parseNodesAndPools, for qpy-multiuser, which runs the pools of its
 * file (issue 18) under the administrator's account: their pilots run as
 * the administrator, so users' jobs must reach them over SSH, each under
 * its own user; `reach=agent` is refused.
 */
export function parseNodeSpecs(text: string, path: string, probed = false): NodeSpec[] {
  return parseGroupNodes(text, path, probed).nodes;
}

/** parseNodeSpecs with the pools too. */
export function parseGroupNodes(text: string, path: string, probed = false): { nodes: NodeSpec[]; pools: PoolConfig[] } {
  const parsed = parseNodesAndPools(text, path, probed);
  const agent = parsed.pools.find((p) => p.reach === 'agent');
  if (agent !== undefined) {
    throw new QpyError(
      'NODES_FILE',
      `${path}, line ${agent.line}: pool ${agent.name} of qpy-multiuser needs reach=ssh (reach=agent is the default)`,
      "its pilots run under this account, and each user's jobs must run under their own, reached over SSH",
    );
  }
  return parsed;
}
