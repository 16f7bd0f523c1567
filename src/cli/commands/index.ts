/** The command table: the one list that builds the CLI's parser and help. */
import type { CommandDef } from '../command.js';
import { sub } from './sub.js';
import { check } from './check.js';
import { kill } from './kill.js';
import { clean } from './clean.js';
import { status } from './status.js';
import { finish, restart } from './lifecycle.js';
import { join } from './join.js';
import { ctrlQueue } from './ctrl-queue.js';
import { notes } from './notes.js';
import { config } from './config.js';
import { tutorialCommand } from './tutorial.js';
import { completion } from './completion.js';
import { hold, release } from './hold.js';
import { wait } from './wait.js';
import { why } from './why.js';
import { follow } from './follow.js';
import { retry, rerun } from './retry.js';
import { load } from './load.js';
import { history } from './history.js';
import { web } from './web.js';

const tutorial = tutorialCommand(() => COMMANDS.map((c) => c.name));

export const COMMANDS: readonly CommandDef[] = [
  sub,
  load,
  check,
  kill,
  clean,
  history,
  retry,
  rerun,
  status,
  wait,
  follow,
  why,
  web,
  config,
  ctrlQueue,
  hold,
  release,
  notes,
  tutorial,
  restart,
  finish,
  join,
  completion,
];
