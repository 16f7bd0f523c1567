/**
 * `qpy web`: the URL of this user's own page, served by their master on
 * 127.0.0.1 (issue 17). The URL carries a one-time token: its first use
 * opens a session in that browser (a cookie) and the token is spent; run
 * `qpy web` again for another browser. From another machine, forward the
 * port first (`ssh -L PORT:127.0.0.1:PORT HOST`), as stderr says.
 */
import type { CommandDef } from '../command.js';

export const web: CommandDef = {
  name: 'web',
  summary: 'Print the URL of your page (jobs, output, buttons), served by your master; its token opens it once',
  configure() {},
  complete: () => ({ kind: 'none' }),
  async run(ctx) {
    const reply = await (await ctx.master()).request({ type: 'web' });
    if (reply.type !== 'web') return;
    ctx.out(`http://127.0.0.1:${reply.port}/?token=${reply.token}\n`);
    process.stderr.write(
      `Open it once, in a browser on this machine (the token is spent then; run qpy web again for another).\n` +
        `From elsewhere: ssh -L ${reply.port}:127.0.0.1:${reply.port} THIS-HOST, then open the URL there.\n`,
    );
  },
};
