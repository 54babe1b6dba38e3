/** Every `keymesh` command, in the order --help lists them. */
import type { Command } from '../command.js';
import { init } from './init.js';

export const COMMANDS: readonly Command[] = [
  init,
];
