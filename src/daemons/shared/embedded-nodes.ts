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
export function loadEmbeddedNodes(path: string): { nodes: NodeSpec[]; fromFile: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nodes: defaultNodes(), fromFile: false };
    throw new QpyError('NODES_FILE', `cannot read ${path}: ${(err as Error).message}`);
  }
  const nodes = parseNodeSpecs(text, path);
  if (nodes.length === 0)
    throw new QpyError('NODES_FILE', `${path} lists no nodes`, `remove the file to use this machine (${hostname()}) alone`);
  return { nodes, fromFile: true };
}

/**
 * Parse a nodes file (`path` names it in messages) into nodes of known
 * capacity: a node at this machine without `cores=`/`memory=` gets this
 * machine's; a remote one must state them, unless `probed` (the shared
 * daemon probes its nodes): it then starts at 0 until its probe answers.
 * Problems are NODES_FILE errors.
 */
export function parseNodeSpecs(text: string, path: string, probed = false): NodeSpec[] {
  const parsed = parseNodesFile(text);
  if (!parsed.ok) throw new QpyError('NODES_FILE', `${path}, ${parsed.message}`);
  // Parsed and checked (issue 18), but no daemon runs pools yet: refused, rather than silently left unused.
  const pool = parsed.pools[0];
  if (pool !== undefined) {
    throw new QpyError('NODES_FILE', `${path}, line ${pool.line}: pools are not supported yet`, `remove the line "pool ${pool.name} …"`);
  }
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
  return nodes;
}
