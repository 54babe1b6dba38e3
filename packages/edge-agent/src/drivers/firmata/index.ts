/**
 * The johnny-five driver family: relays, LEDs, piezo buzzers, buttons and character LCDs on
 * Firmata boards. Nothing here imports johnny-five at load: FirmataBoards imports it when the
 * first board opens.
 */
export { FirmataBoards, type FirmataBoardsOptions, type UseOptions, type ReadyBoard } from './boards.js';
export { openOutput, outputInverted } from './output.js';
export { openInput } from './input.js';
export { openBuzzer, PATTERNS, BEAT_MS } from './buzzer.js';
export { openDisplay, lcdText } from './display.js';
export * from './schemas.js';
