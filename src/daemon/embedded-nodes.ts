/**
 * The nodes of the embedded default: the user's own `nodes` file if there is
 * one, else this machine alone. Nodes at `localhost` run jobs locally; a node
 * without `cores=` or `memory=` gets this machine's count. Remote addresses
 * need the SSH executor, which is not part of this version: such a node is
 * refused with a clear message.
 */
import { availableParallelism, totalmem, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseNodesFile } from '../allocator/nodes-file.js';
import type { NodeSpec } from '../allocator/state.js';
import { QpyError } from '../errors.js';

export const LOCAL_ADDRESSES = ['localhost', '127.0.0.1', '::1'];

export function localMachineGB(): number {
  return Math.round((totalmem() / 1024 ** 3) * 10) / 10;
}

/** This machine as the only node. */
export function defaultNodes(): NodeSpec[] {
  return [{ name: 'localhost', address: 'localhost', cores: availableParallelism(), memGB: localMachineGB(), attributes: [], prefMulticore: false, checkDir: null }];
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
  const parsed = parseNodesFile(text);
  if (!parsed.ok) throw new QpyError('NODES_FILE', `${path}, ${parsed.message}`);
  if (parsed.nodes.length === 0) throw new QpyError('NODES_FILE', `${path} lists no nodes`, `remove the file to use this machine (${hostname()}) alone`);
  const nodes: NodeSpec[] = [];
  for (const n of parsed.nodes) {
    if (!LOCAL_ADDRESSES.includes(n.address)) {
      throw new QpyError('NODES_FILE', `${path}: node ${n.name} has address ${n.address}; remote nodes need SSH, which this qpy version does not support yet`, 'use address=localhost');
    }
    nodes.push({ ...n, cores: n.cores ?? availableParallelism(), memGB: n.memGB ?? localMachineGB() });
  }
  return { nodes, fromFile: true };
}
