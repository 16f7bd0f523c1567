/** Golden output of `qpy config`, and the colour rules for check (NO_COLOR, terminals, the setting). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfig } from '../../../src/cli/format-config.js';
import { colourOn, paint, statusColour } from '../../../src/cli/colour.js';
import { formatCheck } from '../../../src/cli/format-check.js';
import { DEFAULT_SETTINGS } from '../../../src/protocol/settings.js';
import type { Job } from '../../../src/protocol/job.js';

test('config: the defaults, plain', () => {
  assert.equal(
    formatConfig(DEFAULT_SETTINGS, false, false),
    [
      "Check pattern: '%j%I (%s):%c (on %n; wd: %d%e)\\n'",
      'Using a copied version of run script: False',
      'Using coloured check: True',
      'Colours:',
      '  - queue (yellow)',
      '  - running (blue)',
      '  - done (green)',
      '  - killed (red)',
      '  - undone (grey)',
      '  - failed (magenta)',
      '',
    ].join('\n'),
  );
});

test('config: attribute settings, colour off, paused; coloured scheme lines on a terminal', () => {
  const s = { ...DEFAULT_SETTINGS, colour: false, defaultAttr: 'big', andAttr: 'not slow', orAttr: 'gpu', checkFMT: "%j's\n" };
  assert.equal(
    formatConfig(s, true, false),
    `Check pattern: "%j's\\n"\nUsing a copied version of run script: False\nUsing coloured check: False\n` +
      `Default node attributes: big\n"and" node attributes: not slow\n"or" node attributes: gpu\nJob submission is paused\n`,
  );
  assert.match(formatConfig(DEFAULT_SETTINGS, false, true), /\x1b\[33m {2}- queue \(yellow\)\x1b\[0m\n/);
});

test('config: sourced files listed', () => {
  assert.match(
    formatConfig({ ...DEFAULT_SETTINGS, colour: false, sourceTheseFiles: ['/a', '/b'] }, false, false),
    /\nThese files are sourced when running a job:\n {2}\/a\n {2}\/b\n$/,
  );
});

test('colour: only with the setting on, on a terminal, without NO_COLOR', () => {
  assert.equal(colourOn(DEFAULT_SETTINGS, true, {}), true);
  assert.equal(colourOn(DEFAULT_SETTINGS, false, {}), false);
  assert.equal(colourOn(DEFAULT_SETTINGS, true, { NO_COLOR: '1' }), false);
  assert.equal(colourOn(DEFAULT_SETTINGS, true, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count');
  assert.equal(colourOn({ ...DEFAULT_SETTINGS, colour: false }, true, {}), false);
  assert.equal(statusColour(DEFAULT_SETTINGS, 'node_failed'), 'magenta');
  assert.equal(paint('x', 'grey'), '\x1b[30mx\x1b[0m');
});

test('check: each job wrapped in its status colour, the paused line not', () => {
  const job: Job = { id: 1, spec: { command: 'true', cwd: '/w', cores: 1, memGB: 1, attrs: null }, queuedAt: 0, state: { type: 'queue' } };
  assert.equal(
    formatCheck([job], '%j %s\n', 0, true, undefined, (st) => statusColour(DEFAULT_SETTINGS, st)),
    '\x1b[33m1 queue\n\x1b[0mJob submission is paused.\n',
  );
});
