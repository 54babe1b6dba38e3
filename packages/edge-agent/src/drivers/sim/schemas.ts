/** Config of the sim devices (the demo, tests, and trying a config before the hardware is wired). */
import { z } from 'zod';

export const simOutputSchema = z.strictObject({
  driver: z.literal('sim').describe('A simulated output: shown on the local panel, driven like the real one.'),
  activeLow: z
    .boolean()
    .default(false)
    .describe('Model an active-low line (the simulated electrical level is inverted); lets a hardware config run unchanged in sim.'),
});

export const simInputSchema = z.strictObject({
  driver: z.literal('sim').describe('A simulated input: set from the local panel, the terminal or a test.'),
  activeLow: z.boolean().default(false).describe('Model an active-low line (active when the simulated level is low).'),
  debounceMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(0)
    .describe('A change is taken once the line has rested this long (ms); 0 takes every change at once.'),
  initial: z.boolean().default(false).describe('Whether the input is active when the agent starts (a door left open).'),
});

export const simBuzzerSchema = z.strictObject({
  driver: z.literal('sim').describe('A simulated buzzer: the panel shows each pattern as it plays.'),
});

export const simDisplaySchema = z.strictObject({
  driver: z.literal('sim').describe('A simulated character display: the panel shows its lines.'),
  columns: z.number().int().min(8).max(80).default(20).describe('Characters per line.'),
  rows: z.number().int().min(1).max(8).default(4).describe('Number of lines.'),
  print: z.boolean().default(false).describe('Also print the display to standard output each time it changes (a terminal at the bench).'),
});

export type SimOutputConfig = z.output<typeof simOutputSchema>;
export type SimInputConfig = z.output<typeof simInputSchema>;
export type SimBuzzerConfig = z.output<typeof simBuzzerSchema>;
export type SimDisplayConfig = z.output<typeof simDisplaySchema>;
