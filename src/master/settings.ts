/**
 * `qpy config KEY VALUE…` as a pure function of the settings (reference
 * §5.8, bugs fixed): each key with its aliases, its validation and the
 * sentence that answers it; and the attribute defaults applied at submission
 * (§4.3.3). A key with no value never crashes anything: it restores the
 * default, unsets, or is refused with a reason; every list can be cleared.
 */
import { COLOURS, DEFAULT_SETTINGS, SCHEME_STATUSES, pyRepr, type Colour, type Settings } from '../protocol/settings.js';
import { formatTimeLimit, parseTimeLimit } from '../protocol/time-limit.js';

export type SettingResult = { ok: true; settings: Settings; message: string } | { ok: false; message: string };

/** Keys of the original that mean nothing in this design, with why. */
const GONE: Record<string, string> = {
  sleepTimeSubCtrl: 'qpy reacts to events at once: there is no submission cycle to tune',
  sleepTimeCheckRun: 'job ends are seen at once: there is no polling interval to tune',
  saveMessages: 'the master keeps a log instead: ~/.qpy/master.log',
  save_messages: 'the master keeps a log instead: ~/.qpy/master.log',
  maxMessages: 'the master keeps a log instead: ~/.qpy/master.log',
  cleanMessages: 'the master keeps a log instead: ~/.qpy/master.log',
  loggerLevel: 'the master keeps a log instead: ~/.qpy/master.log',
  ssh_pKey: 'SSH keys come from your ssh-agent and ~/.ssh/config',
  ssh_p_key_file: 'SSH keys come from your ssh-agent and ~/.ssh/config',
  paused_jobs: 'use qpy ctrlQueue pause / continue',
};

const ALIASES: Record<string, string> = { job_fmt_pattern: 'checkFMT', use_colour: 'colour', use_script_copy: 'copyScripts' };

/** Backslash escapes as Python's `unicode_escape` decodes the common ones: \n \t \r \\ \' \" \a \b \f \v \0. */
export function decodeEscapes(text: string): string {
  const map: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    "'": "'",
    '"': '"',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    '0': '\0',
  };
  return text.replace(/\\(.)/gs, (all, c: string) => map[c] ?? all);
}

function bool(key: string, values: string[]): boolean | string {
  const v = values.length === 1 ? values[0]!.toLowerCase() : '';
  if (v === 'true') return true;
  if (v === 'false') return false;
  return `Value for ${key} must be true or false.`;
}

const pyBool = (b: boolean): string => (b ? 'True' : 'False');

/** Where the local sendmail is (looked for by the daemon only when notifyMail is set), or null if there is none. */
export type SendmailFinder = () => string | null;

/** notifyMail's address: a mailbox name, or one with a domain (no spaces, commas or angle brackets: one address). */
const MAIL_ADDRESS = /^[A-Za-z0-9._%+=-]+(@[A-Za-z0-9.-]+)?$/;

export function applySetting(settings: Settings, rawKey: string, values: string[], sendmail: SendmailFinder = () => null): SettingResult {
  const key = ALIASES[rawKey] ?? rawKey;
  if (GONE[key]) return { ok: false, message: `${rawKey} no longer exists: ${GONE[key]}.` };
  const set = (patch: Partial<Settings>, message: string): SettingResult => ({ ok: true, settings: { ...settings, ...patch }, message });
  switch (key) {
    case 'checkFMT': {
      if (values.length === 0 || (values.length === 1 && values[0] === 'default')) {
        return set(
          { checkFMT: DEFAULT_SETTINGS.checkFMT },
          `Check pattern restored to the default value: ${pyRepr(DEFAULT_SETTINGS.checkFMT)}.`,
        );
      }
      const fmt = decodeEscapes(values.join(' '));
      return set({ checkFMT: fmt }, `Check pattern modified to ${pyRepr(fmt)}.`);
    }
    case 'colour':
    case 'copyScripts': {
      const b = bool(key, values);
      if (typeof b === 'string') return { ok: false, message: b };
      return set({ [key]: b }, `${key} set to ${pyBool(b)}`);
    }
    case 'coloursScheme': {
      if (values.length === 0 || (values.length === 1 && values[0] === 'default'))
        return set({ coloursScheme: DEFAULT_SETTINGS.coloursScheme }, 'Colours scheme restored to the default.');
      const unknown = values.find((v) => !(COLOURS as readonly string[]).includes(v));
      if (unknown !== undefined) return { ok: false, message: `Unknown colour: ${unknown}` };
      if (values.length !== 5 && values.length !== 6)
        return {
          ok: false,
          message: 'Give five colours for coloursScheme (queue running done killed undone), and optionally a sixth for failed.',
        };
      const scheme = { ...settings.coloursScheme };
      for (const [i, v] of values.entries()) scheme[SCHEME_STATUSES[i]!] = v as Colour;
      return set({ coloursScheme: scheme }, 'Colours scheme changed.');
    }
    case 'defaultAttr':
    case 'andAttr':
    case 'orAttr': {
      const expr = values.join(' ').trim();
      if (expr === '') return set({ [key]: null }, `${key} unset.`);
      return set({ [key]: expr }, `${key} set to ${expr}.`);
    }
    case 'sourceTheseFiles': {
      if (values.length === 0) return set({ sourceTheseFiles: [] }, 'sourceTheseFiles unset.');
      if (values.some((v) => !v.startsWith('/'))) return { ok: false, message: 'sourceTheseFiles takes absolute paths' };
      return set({ sourceTheseFiles: [...values] }, `sourceTheseFiles set to [${values.map(pyRepr).join(', ')}].`);
    }
    case 'defaultTime': {
      const raw = values.join(' ');
      if (raw.trim() === '') return set({ defaultTime: null }, 'defaultTime unset: jobs without -t have no time limit.');
      const t = parseTimeLimit(raw);
      if (!t.ok) return { ok: false, message: `defaultTime: ${t.message}` };
      if (t.seconds === null) return set({ defaultTime: null }, 'defaultTime unset: jobs without -t have no time limit.');
      return set({ defaultTime: t.seconds }, `defaultTime set to ${formatTimeLimit(t.seconds)}.`);
    }
    case 'memLimit': {
      const v = values.length === 1 ? values[0]!.toLowerCase() : '';
      const on = v === 'on' || v === 'true' ? true : v === 'off' || v === 'false' ? false : null;
      if (on === null) return { ok: false, message: 'Value for memLimit must be on or off.' };
      return set(
        { memLimit: on },
        on ? 'memLimit on: -m limits a job’s resident memory.' : 'memLimit off: -m only places jobs, it does not limit them.',
      );
    }
    case 'historyDays':
    case 'historyJobs': {
      const max = key === 'historyDays' ? 100_000 : 1_000_000_000;
      if (values.length === 0 || (values.length === 1 && values[0] === 'default'))
        return set({ [key]: DEFAULT_SETTINGS[key] }, `${key} restored to the default: ${DEFAULT_SETTINGS[key]}.`);
      const v = values.length === 1 && /^[0-9]{1,10}$/.test(values[0]!) ? Number(values[0]) : 0;
      if (v < 1 || v > max) return { ok: false, message: `Value for ${key} must be a whole number from 1 to ${max}.` };
      return set({ [key]: v }, `${key} set to ${v}: older history is pruned in the background.`);
    }
    case 'notifyCommand': {
      const command = values.join(' ').trim();
      if (command === '') return set({ notifyCommand: null }, 'notifyCommand unset.');
      return set({ notifyCommand: command }, `notifyCommand set to ${command}.`);
    }
    case 'notifyMail': {
      if (values.length === 0 || (values.length === 1 && values[0] === '')) return set({ notifyMail: null }, 'notifyMail unset.');
      if (values.length !== 1 || !MAIL_ADDRESS.test(values[0]!) || values[0]!.length > 320)
        return { ok: false, message: `notifyMail takes one mail address (user@example.org), not '${values.join(' ')}'` };
      if (sendmail() === null)
        return { ok: false, message: 'notifyMail needs a local sendmail, and none was found (in PATH, /usr/sbin, /usr/lib)' };
      return set({ notifyMail: values[0]! }, `notifyMail set to ${values[0]!}.`);
    }
    default:
      return { ok: false, message: `Unknown key: ${rawKey}` };
  }
}

/**
 * The command line a job runs with `sourceTheseFiles`: each file sourced
 * (`. 'file'`) first, in the job's own shell, so what they set reaches the
 * command. A file that cannot be read stops the job (exit 2, the shell's
 * message in its .err file) rather than run it half set up.
 */
export function withSourcedFiles(files: readonly string[], command: string): string {
  if (files.length === 0) return command;
  return `${files.map((f) => `. '${f.replace(/'/g, `'\\''`)}'`).join('\n')}\n${command}`;
}

/**
 * A job's attribute expression after the settings (§4.3.3): defaultAttr when
 * it has none, then `( orAttr ) or ( … )`, then `( andAttr ) and ( … )`.
 */
export function withDefaultAttrs(settings: Settings, attrs: string | null): string | null {
  let a = attrs ?? settings.defaultAttr;
  if (settings.orAttr !== null) a = a === null ? settings.orAttr : `( ${settings.orAttr} ) or ( ${a} )`;
  if (settings.andAttr !== null) a = a === null ? settings.andAttr : `( ${settings.andAttr} ) and ( ${a} )`;
  return a;
}
