/**
 * `qpy config [KEY [VALUE…]]` (reference §5.8): show the settings, or set
 * one. Keys: checkFMT, colour, coloursScheme, defaultAttr, andAttr, orAttr,
 * sourceTheseFiles, notifyCommand, notifyMail
 * (see master/settings.ts for values, aliases and refusals).
 */
import { JSON_VERSION, type CommandDef } from '../command.js';
import { COLOURS, SETTING_KEYS } from '../../protocol/settings.js';
import { formatConfig } from '../format-config.js';
import { colourOn } from '../colour.js';

export const config: CommandDef = {
  name: 'config',
  summary: `Show your settings, or set one: config KEY VALUE... (${SETTING_KEYS.join(', ')})`,
  configure(cmd) {
    cmd
      .argument('[key]', 'the setting')
      .argument('[values...]', 'its new value (none: default or unset)')
      .option('--json', 'print the settings as one JSON document');
  },
  complete: (args) => {
    if (args.length === 0) return { kind: 'words', words: SETTING_KEYS };
    if (args[0] === 'colour' || args[0] === 'copyScripts')
      return args.length === 1 ? { kind: 'words', words: ['true', 'false'] } : { kind: 'none' };
    if (args[0] === 'coloursScheme') return args.length <= 6 ? { kind: 'words', words: COLOURS } : { kind: 'none' };
    if (args[0] === 'checkFMT') return args.length === 1 ? { kind: 'words', words: ['default'] } : { kind: 'none' };
    if (args[0] === 'notifyCommand') return args.length === 1 ? { kind: 'commands' } : { kind: 'files' };
    if (args[0] === 'defaultAttr' || args[0] === 'andAttr' || args[0] === 'orAttr') return { kind: 'words', words: [], from: 'attributes' };
    return { kind: 'none' };
  },
  async run(ctx, args, opts) {
    const [key, ...values] = args;
    const reply = await (await ctx.master()).request({ type: 'config', key: key ?? null, values });
    if (reply.type !== 'settings') return;
    if (opts['json']) ctx.out(`${JSON.stringify({ qpy: JSON_VERSION, paused: reply.paused, settings: reply.settings })}\n`);
    else if (reply.message !== null) ctx.out(`${reply.message}\n`);
    else ctx.out(formatConfig(reply.settings, reply.paused, colourOn(reply.settings, process.stdout.isTTY === true)));
  },
};
