/**
 * Switching the cluster page on and off (issue 17): at start from the
 * admin directory's `web` file (a wrong file, or one that asks for an
 * address the daemon may not serve, is reported by status and leaves the
 * page off: the daemon starts anyway), and at `qpy-admin web` (admin
 * request `web`), which writes the file once the page is served as asked.
 */
import { QpyError } from '../../errors.js';
import type { ClusterStatus } from '../../protocol/cluster.js';
import type { MultiuserContext } from './context.js';
import { readOptional } from './listen-address.js';
import { checkWebSetting, parseWebSetting, webSettingText, writeWebFile, type WebSetting } from './web-file.js';
import { startWebServer, type WebServer } from './web.js';
import type { SampleSeries } from './web-samples.js';

export interface WebControl {
  /** Apply a setting (`qpy-admin web`): the page's URL, or null when off. Throws a QpyError, leaving things as they were. */
  set(setting: WebSetting): Promise<string | null>;
  /** Apply the `web` file (at start). */
  applyFile(): Promise<void>;
  sampled(): void;
  setCertificate(pem: string): void;
  close(): Promise<void>;
}

export function webControl(deps: {
  ctx: MultiuserContext;
  status(): ClusterStatus;
  series(): SampleSeries;
  /** The daemon's key and certificate (PEM) when its links speak TLS, else null. */
  tls(): string | null;
}): WebControl {
  const { ctx } = deps;
  let server: WebServer | null = null;
  const start = async (s: WebSetting): Promise<WebServer | null> => {
    if (!s.on) return null;
    checkWebSetting(s, deps.tls() !== null);
    try {
      return await startWebServer({
        ctx,
        status: deps.status,
        series: deps.series(),
        host: s.host,
        port: s.port,
        tls: deps.tls(),
      });
    } catch (err) {
      throw new QpyError(
        'INVALID_ARGUMENT',
        `cannot serve the cluster page on ${webSettingText(s).slice(3)}: ${(err as Error).message}`,
        (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'choose another port: qpy-admin web on ADDRESS:PORT' : undefined,
      );
    }
  };
  const swap = async (s: WebSetting): Promise<void> => {
    // Stop the old one first: the new one may want its port.
    const old = server;
    server = null;
    await old?.close();
    server = await start(s);
    ctx.log(server === null ? 'web: the cluster page is off' : `web: the cluster page is served at ${server.url}`);
  };
  return {
    async set(s) {
      checkWebSetting(s, deps.tls() !== null);
      await swap(s);
      writeWebFile(ctx.paths.web, s);
      ctx.problems.delete('web');
      return server?.url ?? null;
    },
    async applyFile() {
      const text = readOptional(ctx.paths.web);
      if (text === null) return;
      try {
        await swap(parseWebSetting(text));
        ctx.problems.delete('web');
      } catch (err) {
        if (!(err instanceof QpyError)) throw err;
        ctx.problems.set('web', `web file: ${err.message} (the cluster page is off)`);
        ctx.log(`web: ${err.message}`);
      }
    },
    sampled: () => server?.sampled(),
    setCertificate: (pem) => server?.setCertificate(pem),
    close: async () => {
      await server?.close();
      server = null;
    },
  };
}
