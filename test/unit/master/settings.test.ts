/** Tests for src/master/settings.ts: every key, its refusals, keys that are gone, and §4.3.3. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applySetting, decodeEscapes, withDefaultAttrs } from '../../../src/master/settings.js';
import { DEFAULT_SETTINGS, pyRepr, type Settings } from '../../../src/protocol/settings.js';

const apply = (key: string, ...values: string[]) => applySetting(DEFAULT_SETTINGS, key, values);
const ok = (key: string, ...values: string[]): Settings => {
  const r = apply(key, ...values);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.settings;
};

test('checkFMT: words joined, escapes decoded; default or no value restores', () => {
  assert.deepEqual(apply('checkFMT', '%j', '%s\\n'), {
    ok: true,
    settings: { ...DEFAULT_SETTINGS, checkFMT: '%j %s\n' },
    message: "Check pattern modified to '%j %s\\n'.",
  });
  assert.equal(ok('job_fmt_pattern', '%j\\t%x\\n').checkFMT, '%j\t%x\n', 'the alias');
  for (const v of [[], ['default']]) {
    const r = applySetting({ ...DEFAULT_SETTINGS, checkFMT: 'x' }, 'checkFMT', v);
    assert.deepEqual(r, {
      ok: true,
      settings: DEFAULT_SETTINGS,
      message: "Check pattern restored to the default value: '%j%I (%s):%c (on %n; wd: %d%e)\\n'.",
    });
  }
});

test('colour and copyScripts: true/false in any case; anything else refused', () => {
  assert.equal(ok('colour', 'FALSE').colour, false);
  assert.equal(ok('use_script_copy', 'True').copyScripts, true);
  assert.deepEqual(apply('colour', 'yes'), { ok: false, message: 'Value for colour must be true or false.' });
  assert.deepEqual(
    apply('copyScripts'),
    { ok: false, message: 'Value for copyScripts must be true or false.' },
    'no value: refused, never a crash',
  );
  assert.equal((apply('colour', 'true') as { message: string }).message, 'colour set to True');
});

test('coloursScheme: five colours (a sixth for failed); unknown colours first; a single word is a word', () => {
  assert.deepEqual(ok('coloursScheme', 'red', 'green', 'blue', 'cyan', 'white').coloursScheme, {
    queue: 'red',
    running: 'green',
    done: 'blue',
    killed: 'cyan',
    undone: 'white',
    failed: 'magenta',
  });
  assert.equal(ok('coloursScheme', 'red', 'green', 'blue', 'cyan', 'white', 'yellow').coloursScheme.failed, 'yellow');
  assert.deepEqual(apply('coloursScheme', 'red'), {
    ok: false,
    message: 'Give five colours for coloursScheme (queue running done killed undone), and optionally a sixth for failed.',
  });
  assert.deepEqual(apply('coloursScheme', 'red', 'pink'), { ok: false, message: 'Unknown colour: pink' });
  assert.deepEqual(ok('coloursScheme').coloursScheme, DEFAULT_SETTINGS.coloursScheme);
});

test('attribute settings and sourceTheseFiles: set, and cleared by no value', () => {
  const s = ok('andAttr', 'big', 'and', 'fast');
  assert.equal(s.andAttr, 'big and fast');
  assert.deepEqual(applySetting(s, 'andAttr', []), { ok: true, settings: { ...s, andAttr: null }, message: 'andAttr unset.' });
  assert.deepEqual(ok('sourceTheseFiles', '/a', '/b c').sourceTheseFiles, ['/a', '/b c']);
  assert.equal((apply('sourceTheseFiles', '/a', '/b') as { message: string }).message, "sourceTheseFiles set to ['/a', '/b'].");
  assert.deepEqual(applySetting({ ...DEFAULT_SETTINGS, sourceTheseFiles: ['/a'] }, 'sourceTheseFiles', []), {
    ok: true,
    settings: DEFAULT_SETTINGS,
    message: 'sourceTheseFiles unset.',
  });
  assert.deepEqual(apply('sourceTheseFiles', 'rel'), { ok: false, message: 'sourceTheseFiles takes absolute paths' });
});

test('keys of the original that mean nothing now say why; unknown keys are refused', () => {
  assert.deepEqual(apply('sleepTimeCheckRun', '5'), {
    ok: false,
    message: 'sleepTimeCheckRun no longer exists: job ends are seen at once: there is no polling interval to tune.',
  });
  assert.deepEqual(apply('paused_jobs', 'true'), {
    ok: false,
    message: 'paused_jobs no longer exists: use qpy ctrlQueue pause / continue.',
  });
  assert.deepEqual(apply('nope', 'x'), { ok: false, message: 'Unknown key: nope' });
});

test('§4.3.3: defaultAttr, then orAttr, then andAttr', () => {
  const s = { ...DEFAULT_SETTINGS, defaultAttr: 'big', orAttr: 'infiband', andAttr: 'node1' };
  assert.equal(withDefaultAttrs(s, null), '( node1 ) and ( ( infiband ) or ( big ) )');
  assert.equal(withDefaultAttrs(s, 'not big'), '( node1 ) and ( ( infiband ) or ( not big ) )');
  assert.equal(withDefaultAttrs(DEFAULT_SETTINGS, null), null);
  assert.equal(withDefaultAttrs({ ...DEFAULT_SETTINGS, andAttr: 'x' }, null), 'x');
});

test('escapes and repr', () => {
  assert.equal(decodeEscapes('a\\nb\\tc\\\\d\\q'), 'a\nb\tc\\d\\q');
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.equal(pyRepr('a\nb'), "'a\\nb'");
});

test('sourceTheseFiles: each file sourced first, quoted, in the job’s own shell', async () => {
  const { withSourcedFiles } = await import('../../../src/master/settings.js');
  assert.equal(withSourcedFiles([], 'run'), 'run');
  assert.equal(withSourcedFiles(['/a', "/it's"], 'run x'), ". '/a'\n. '/it'\\''s'\nrun x");
});

test('historyDays and historyJobs: whole numbers in range, restored by no value or default', () => {
  assert.equal(ok('historyDays', '30').historyDays, 30);
  assert.equal(ok('historyJobs', '5000').historyJobs, 5000);
  const restored = applySetting({ ...DEFAULT_SETTINGS, historyDays: 3 }, 'historyDays', []);
  assert.equal(restored.ok && restored.settings.historyDays, 90);
  assert.equal(ok('historyJobs', 'default').historyJobs, 1_000_000);
  for (const bad of [['0'], ['-1'], ['1.5'], ['x'], ['1', '2'], ['100001']])
    assert.deepEqual(apply('historyDays', ...bad), {
      ok: false,
      message: 'Value for historyDays must be a whole number from 1 to 100000.',
    });
});

test('notifyCommand: any command line, unset when empty; notifyMail: one address, and only with a local sendmail', () => {
  assert.equal(ok('notifyCommand', 'mail-me', '--quiet').notifyCommand, 'mail-me --quiet');
  const cleared = applySetting({ ...DEFAULT_SETTINGS, notifyCommand: 'x' }, 'notifyCommand', []);
  assert.ok(cleared.ok && cleared.settings.notifyCommand === null);
  const found = (): string | null => '/usr/sbin/sendmail';
  const mail = (values: string[], sendmail = found) => applySetting(DEFAULT_SETTINGS, 'notifyMail', values, sendmail);
  const set = mail(['me@example.org']);
  assert.ok(set.ok && set.settings.notifyMail === 'me@example.org');
  const none = mail(['me@example.org'], () => null);
  assert.deepEqual(none, { ok: false, message: 'notifyMail needs a local sendmail, and none was found (in PATH, /usr/sbin, /usr/lib)' });
  for (const bad of [['a@b', 'c@d'], ['a b@c'], ['<a@b>'], ['a@b,c@d']]) assert.equal(mail(bad).ok, false, bad.join(' '));
  const unset = applySetting({ ...DEFAULT_SETTINGS, notifyMail: 'a@b' }, 'notifyMail', [], () => null);
  assert.ok(unset.ok && unset.settings.notifyMail === null);
});
