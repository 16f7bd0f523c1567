/**
 * The `web` file of the admin directory (issue 17): whether qpy-multiuser
 * serves the cluster page, and where. One line, `on [ADDRESS:PORT]` or
 * `off` (blank lines and `#` comments ignored; no file: off). The address
 * defaults to 127.0.0.1 and the port to 8340; `[::1]:8340` for IPv6; port 0
 * takes any free one. Off loopback the page is served only when the links
 * speak TLS (then over HTTPS with the same certificate). `qpy-admin web`
 * sends the same words and the daemon writes them here.
 */
import { writeFileSync } from 'node:fs';
import { QpyError } from '../../errors.js';
import { isLoopback } from '../../protocol/cluster.js';

export const DEFAULT_WEB_HOST = '127.0.0.1';
export const DEFAULT_WEB_PORT = 8340;

export type WebSetting = { on: false } | { on: true; host: string; port: number };

const bad = (text: string, why: string) =>
  new QpyError('INVALID_ARGUMENT', `"${text}" is not a web setting: ${why}`, 'give: on [ADDRESS:PORT] (default 127.0.0.1:8340), or off');

/** The setting `text` names (the file's text, or `qpy-admin web`'s words). */
export function parseWebSetting(text: string): WebSetting {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return { on: false };
  if (lines.length > 1) throw bad(lines.join(' / '), 'one line only');
  const [word, where, ...rest] = lines[0]!.split(/\s+/);
  if (word === 'off' && where === undefined) return { on: false };
  if (word !== 'on') throw bad(lines[0]!, 'it starts with neither on nor off');
  if (rest.length > 0) throw bad(lines[0]!, 'too many words');
  if (where === undefined) return { on: true, host: DEFAULT_WEB_HOST, port: DEFAULT_WEB_PORT };
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^\s:[\]]+)):([0-9]{1,5})$/.exec(where);
  if (m === null) throw bad(lines[0]!, 'the place is ADDRESS:PORT ([ADDRESS]:PORT for IPv6)');
  const port = Number(m[3]);
  if (port > 65535) throw bad(lines[0]!, 'the port is above 65535');
  return { on: true, host: m[1] ?? m[2]!, port };
}

/** The setting as the file's line. */
export function webSettingText(s: WebSetting): string {
  return s.on ? `on ${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}` : 'off';
}

/** Refuse a setting off loopback unless the links speak TLS. */
export function checkWebSetting(s: WebSetting, tls: boolean): void {
  if (s.on && !isLoopback(s.host) && !tls)
    throw new QpyError(
      'INVALID_ARGUMENT',
      `the cluster page is served off loopback (${s.host}) only when qpy-multiuser's links use TLS, and they do not (it listens on loopback)`,
      'serve it on 127.0.0.1 and reach it with ssh -L, or make the links use TLS first: see the admin guide, "The cluster page"',
    );
}

export function writeWebFile(path: string, s: WebSetting): void {
  writeFileSync(path, `${webSettingText(s)}\n`, { mode: 0o600 });
}
