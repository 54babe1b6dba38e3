import type { EdgeCommand } from '../command.js';
import { doctorCommand } from './doctor.js';
import { enrolCommand } from './enrol.js';
import { runCommand } from './run.js';
import { schemaCommand } from './schema.js';
import { tapCommand } from './tap.js';

export const EDGE_COMMANDS: readonly EdgeCommand[] = [enrolCommand, runCommand, doctorCommand, tapCommand, schemaCommand];
