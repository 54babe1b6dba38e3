import { z } from 'zod';
import { EdgeConfig } from '../../config/schema.js';
import type { EdgeCommand } from '../command.js';

export const schemaCommand: EdgeCommand = {
  name: 'schema',
  summary: "print the config file's JSON Schema: every field, its default and what it is for",
  usage: '',
  help: `Prints the JSON Schema of \`keymesh-edge run --config FILE\` (drawn from the same zod schema
that validates the file), for an editor's completion or to read. Examples per kind of
hardware are in hardware/examples/.`,
  flags: {},
  positionals: { min: 0, max: 0 },
  async run(r) {
    await r.out.write(JSON.stringify(z.toJSONSchema(EdgeConfig, { io: 'input', unrepresentable: 'any' }), null, 2) + '\n');
    return 0;
  },
};
