/**
 * A raw TCP proxy that records what passes, to check what is on the wire.
 * Run as a program (so it can be started inside a network namespace):
 * `node record-proxy.js LISTEN_HOST TARGET_HOST TARGET_PORT OUT_DIR`; it
 * prints its port once listening, and appends connection N's bytes to
 * OUT_DIR/N.up (client → server) and OUT_DIR/N.down (server → client).
 */
import { createServer, connect, type AddressInfo } from 'node:net';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

const [listenHost, targetHost, targetPort, outDir] = process.argv.slice(2) as [string, string, string, string];
let n = 0;
const server = createServer((client) => {
  const id = n++;
  const upstream = connect({ host: targetHost, port: Number(targetPort) });
  client.on('data', (d) => {
    appendFileSync(join(outDir, `${id}.up`), d);
    upstream.write(d);
  });
  upstream.on('data', (d) => {
    appendFileSync(join(outDir, `${id}.down`), d);
    client.write(d);
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, listenHost, () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
