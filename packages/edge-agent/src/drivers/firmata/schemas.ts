/**
 * Config of the johnny-five driver family: Firmata boards (an Arduino running StandardFirmata on
 * USB) and the devices on them. Boards are declared once at the top of the config and devices
 * name theirs, so several devices share one serial port:
 *
 *   boards:
 *     uno: { port: /dev/ttyACM0 }
 *   relay:   { driver: johnny-five, board: uno, pin: 7, type: NC }
 *   greenLed: { driver: johnny-five, board: uno, pin: 13, component: led }
 */
import { z } from 'zod';

const BOARD_NAME = /^[a-z][a-z0-9_-]{0,31}$/i;

export const firmataBoardSchema = z.strictObject({
  port: z
    .string()
    .min(1)
    .max(256)
    .describe('The serial port of the board running StandardFirmata: /dev/ttyACM0 (Uno, Leonardo) or /dev/ttyUSB0 (clones with a CH340); prefer /dev/serial/by-id/... so it survives replugging.'),
  timeoutMs: z
    .number()
    .int()
    .min(1_000)
    .max(120_000)
    .default(10_000)
    .describe('How long the board has to report ready after the port opens (ms); StandardFirmata on an Uno takes 2-4 s because opening the port resets it.'),
});

export const firmataBoardsSchema = z
  .record(z.string(), firmataBoardSchema)
  .superRefine((boards, ctx) => {
    for (const name of Object.keys(boards)) {
      if (!BOARD_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `board name "${name.slice(0, 40)}" is not a letter then letters, digits, "-" or "_" (at most 32): rename the board` });
    }
  })
  .describe('The Firmata boards, by name; a johnny-five device names its board with `board:`.');

/** A board pin: a digital pin number, or an analog pin used as digital ("A0"). */
const pin = z
  .union([z.number().int().min(0).max(127), z.string().regex(/^A[0-9]{1,2}$/, 'an analog pin is written "A0".."A15"')])
  .describe('The board pin: a number for a digital pin (7), or "A0".."A15" for an analog pin used as digital.');

const board = z
  .string()
  .regex(BOARD_NAME, 'name a board declared under `boards:`')
  .describe('The name of the board under `boards:` this device is wired to.');

const driver = z.literal('johnny-five').describe('A device on a Firmata board (Arduino running StandardFirmata), driven through johnny-five.');

export const firmataOutputSchema = z
  .strictObject({
    driver,
    board,
    pin,
    component: z
      .enum(['relay', 'led'])
      .default('relay')
      .describe('What is on the pin: "relay" (johnny-five Relay; a relay module, a contactor, a lock) or "led" (johnny-five Led).'),
    type: z
      .enum(['NO', 'NC'])
      .optional()
      .describe('Relays only: which contact the load is wired to. "NO" (default): the load is powered while the relay is energised. "NC": the pin level is inverted, so `true` still means the load is powered.'),
    activeLow: z
      .boolean()
      .default(false)
      .describe('The module switches on when the pin is LOW (most opto-isolated relay boards, a LED wired to +5 V).'),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.component === 'led' && cfg.type !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: 'type (NO/NC) is for relays: remove it, or set component: relay (a LED wired to +5 V is activeLow: true)' });
    }
  });

export const firmataInputSchema = z.strictObject({
  driver,
  board,
  pin,
  pullup: z
    .boolean()
    .default(false)
    .describe("Turn on the board's internal pull-up (a button or reed switch wired between the pin and GND needs no resistor then); such a line is active when LOW, so activeLow defaults to this."),
  activeLow: z
    .boolean()
    .optional()
    .describe("The input is active (pressed, door open) when the pin is LOW (johnny-five's `invert`); defaults to `pullup`."),
  debounceMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(20)
    .describe('A change is taken once the line has rested this long (ms), on top of johnny-five\'s own 7 ms; contact bounce on a reed switch lasts a few ms.'),
});

export const firmataBuzzerSchema = z.strictObject({
  driver,
  board,
  pin: pin.describe('The pin of a passive piezo (johnny-five Piezo; the tone is toggled from the host, so keep it on a pin of its own).'),
});

/** johnny-five's LCD controllers this driver offers: parallel wiring, or the PCF8574 I2C backpack and its A variants. */
export const LCD_CONTROLLERS = ['PARALLEL', 'PCF8574', 'PCF8574A', 'PCF8574T', 'PCF8574AT'] as const;

export const firmataDisplaySchema = z
  .strictObject({
    driver,
    board,
    controller: z
      .enum(LCD_CONTROLLERS)
      .default('PCF8574')
      .describe('How the HD44780 character LCD is wired: "PCF8574" (the common I2C backpack, address 0x27), "PCF8574A"/"PCF8574AT" (0x3F), "PCF8574T", or "PARALLEL" (six pins, 4-bit).'),
    pins: z
      .array(z.union([z.number().int().min(0).max(127), z.string().regex(/^A[0-9]{1,2}$/)]))
      .length(6)
      .optional()
      .describe('PARALLEL only: the pins wired to RS, EN, D4, D5, D6, D7, in that order.'),
    address: z
      .number()
      .int()
      .min(0x03)
      .max(0x77)
      .optional()
      .describe('I2C only: the backpack\'s address if its A0-A2 jumpers moved it (0x20-0x27 for PCF8574, 0x38-0x3F for PCF8574A).'),
    columns: z.number().int().min(8).max(40).default(16).describe('Characters per line (16 for a 1602, 20 for a 2004).'),
    rows: z.number().int().min(1).max(4).default(2).describe('Number of lines (2 for a 1602, 4 for a 2004).'),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.controller === 'PARALLEL' && !cfg.pins) {
      ctx.addIssue({ code: 'custom', path: ['pins'], message: 'a PARALLEL LCD needs pins: [RS, EN, D4, D5, D6, D7]' });
    }
    if (cfg.controller !== 'PARALLEL' && cfg.pins) {
      ctx.addIssue({ code: 'custom', path: ['pins'], message: `an I2C LCD (${cfg.controller}) is on the board's SDA/SCL: remove pins, or set controller: PARALLEL` });
    }
    if (cfg.rows > 2 && cfg.columns !== 20) {
      // johnny-five places rows 3 and 4 where a 20-column LCD keeps them (0x14, 0x54).
      ctx.addIssue({ code: 'custom', path: ['columns'], message: `a ${cfg.rows}-row LCD is driven as a 2004: set columns: 20 (a ${cfg.columns}x${cfg.rows} LCD cannot be used)` });
    }
    if (cfg.controller === 'PARALLEL' && cfg.address !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'a PARALLEL LCD has no I2C address: remove address, or set the backpack controller (PCF8574)' });
    }
  });

export type FirmataBoardConfig = z.output<typeof firmataBoardSchema>;
export type FirmataBoardsConfig = z.output<typeof firmataBoardsSchema>;
export type FirmataOutputConfig = z.output<typeof firmataOutputSchema>;
export type FirmataInputConfig = z.output<typeof firmataInputSchema>;
export type FirmataBuzzerConfig = z.output<typeof firmataBuzzerSchema>;
export type FirmataDisplayConfig = z.output<typeof firmataDisplaySchema>;
export type FirmataPin = FirmataOutputConfig['pin'];
