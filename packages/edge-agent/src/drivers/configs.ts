/**
 * Every driver's config, one union per device kind, told apart by `driver`. A family adds its
 * schemas here; its library is loaded only by drivers/open.ts when config names it.
 */
import { z } from 'zod';
import { gpiodInputSchema, gpiodOutputSchema, onoffInputSchema, onoffOutputSchema } from './gpio/schemas.js';
import { firmataBuzzerSchema, firmataDisplaySchema, firmataInputSchema, firmataOutputSchema } from './firmata/schemas.js';
import { hidReaderSchema, id12laReaderSchema, rdm6300ReaderSchema, simReaderSchema, wiegandReaderSchema } from './readers/schemas.js';
import { simBuzzerSchema, simDisplaySchema, simInputSchema, simOutputSchema } from './sim/schemas.js';

export const OutputConfig = z.discriminatedUnion('driver', [simOutputSchema, onoffOutputSchema, gpiodOutputSchema, firmataOutputSchema]);
export const InputConfig = z.discriminatedUnion('driver', [simInputSchema, onoffInputSchema, gpiodInputSchema, firmataInputSchema]);
export const ReaderConfig = z.discriminatedUnion('driver', [simReaderSchema, hidReaderSchema, rdm6300ReaderSchema, id12laReaderSchema, wiegandReaderSchema]);
export const BuzzerConfig = z.discriminatedUnion('driver', [simBuzzerSchema, onoffOutputSchema, gpiodOutputSchema, firmataBuzzerSchema]);
export const DisplayConfig = z.discriminatedUnion('driver', [simDisplaySchema, firmataDisplaySchema]);

export type OutputConfig = z.output<typeof OutputConfig>;
export type InputConfig = z.output<typeof InputConfig>;
export type ReaderConfig = z.output<typeof ReaderConfig>;
export type BuzzerConfig = z.output<typeof BuzzerConfig>;
export type DisplayConfig = z.output<typeof DisplayConfig>;
