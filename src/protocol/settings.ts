/**
 * The user's settings (`qpy config`, reference §5.8): their wire and store
 * shape, and the defaults. Kept by the master (meta key `settings`), sent to
 * the CLI with every `check` so it formats and colours jobs as configured.
 */
import { arrayOf, bool, int, nullable, obj, oneOf, strMax, type Infer } from './schema.js';

export const COLOURS = ['grey', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'] as const;
export type Colour = (typeof COLOURS)[number];

/** The keys `qpy config` sets (for help and completion; see master/settings.ts). */
export const SETTING_KEYS = [
  'checkFMT',
  'colour',
  'coloursScheme',
  'copyScripts',
  'defaultAttr',
  'andAttr',
  'orAttr',
  'sourceTheseFiles',
  'defaultTime',
  'memLimit',
  'historyDays',
  'historyJobs',
  'notifyCommand',
  'notifyMail',
] as const;

/** The statuses `coloursScheme` colours, in the order its words are given (`failed` optional, last). */
export const SCHEME_STATUSES = ['queue', 'running', 'done', 'killed', 'undone', 'failed'] as const;

/** The default checkFMT: the original's plus `%e`, so an ended job shows how it ended, and `%I`, a named job's name. */
export const DEFAULT_CHECK_FORMAT = '%j%I (%s):%c (on %n; wd: %d%e)\n';

const colour = oneOf(COLOURS);
export const settingsSchema = obj({
  checkFMT: strMax(4096),
  colour: bool,
  coloursScheme: obj({ queue: colour, running: colour, done: colour, killed: colour, undone: colour, failed: colour }),
  copyScripts: bool,
  defaultAttr: nullable(strMax(4096)),
  andAttr: nullable(strMax(4096)),
  orAttr: nullable(strMax(4096)),
  sourceTheseFiles: arrayOf(strMax(4096), 100),
  /** The time limit (seconds) of a job submitted without `-t`; null: none. */
  defaultTime: nullable(int),
  /** Whether `-m` limits a job's resident memory (unless `sub` says otherwise, or the cluster's policy decides). */
  memLimit: bool,
  /** `qpy history` keeps records this many days, and at most this many (the newest); older ones are pruned. */
  historyDays: int,
  historyJobs: int,
  /** A shell command run when a job with `--notify` starts or ends (see manual/user-guide.md), or null. */
  notifyCommand: nullable(strMax(4096)),
  /** An address mailed through the local sendmail when a job with `--notify` starts or ends, or null. */
  notifyMail: nullable(strMax(320)),
});
export type Settings = Infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  checkFMT: DEFAULT_CHECK_FORMAT,
  colour: true,
  coloursScheme: { queue: 'yellow', running: 'blue', done: 'green', killed: 'red', undone: 'grey', failed: 'magenta' },
  copyScripts: false,
  defaultAttr: null,
  andAttr: null,
  orAttr: null,
  sourceTheseFiles: [],
  defaultTime: null,
  memLimit: true,
  historyDays: 90,
  historyJobs: 1_000_000,
  notifyCommand: null,
  notifyMail: null,
};

/** A string as Python's repr shows it (how the original printed checkFMT): single quotes unless it holds one, \n \t \\ escaped. */
export function pyRepr(text: string): string {
  const q = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}
