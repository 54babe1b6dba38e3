/** Config of the badge readers, one schema per driver (drivers/configs.ts joins them by `driver`). */
import { z } from 'zod';

const uidForm = z
  .enum(['decimal', 'hex'])
  .default('decimal')
  .describe(
    'How the reader types the card: decimal (the 10-digit number printed on EM4100 fobs, most 125 kHz wedge readers) or hex (most 13.56 MHz MIFARE readers). Enrol cards with the form this site\'s readers report.',
  );

export const hidReaderSchema = z.strictObject({
  driver: z.literal('hid').describe('A USB keyboard-wedge reader, read from its Linux input device (evdev).'),
  device: z
    .string()
    .min(1, 'name the reader\'s input device, e.g. /dev/input/by-id/usb-…-event-kbd (ls /dev/input/by-id/)')
    .describe('Its evdev node: use /dev/input/by-id/usb-…-event-kbd, which keeps its name across reboots (an /dev/input/eventN number can change).'),
  form: uidForm,
  layout: z
    .enum(['auto', '64bit', '32bit'])
    .default('auto')
    .describe('Size of the kernel\'s input_event records: 64bit (24 bytes) or 32bit (16 bytes, 32-bit Raspberry Pi OS). auto follows this Node\'s architecture, which is right unless the agent runs under emulation.'),
  maxReadMs: z
    .number()
    .int()
    .min(100)
    .max(10_000)
    .default(1000)
    .describe('A read whose Enter comes later than this after its first key is discarded (keys typed by hand, or a broken read), ms.'),
});

const serialFields = {
  port: z
    .string()
    .min(1, 'name the serial port, e.g. /dev/serial0')
    .default('/dev/serial0')
    .describe('Serial port: /dev/serial0 on a Pi 3/4 (serial console off), /dev/ttyAMA0 on a Pi 5 (dtoverlay=uart0-pi5), /dev/ttyUSB0 for a USB adapter.'),
  baudRate: z.number().int().positive().default(9600).describe('Baud rate (these readers send at 9600 8N1).'),
  maxFrameMs: z
    .number()
    .int()
    .min(20)
    .max(5000)
    .default(200)
    .describe('A frame not finished this long after its start is a fragment and is dropped, ms (a frame takes ~15 ms at 9600 baud).'),
};

export const rdm6300ReaderSchema = z.strictObject({
  driver: z.literal('rdm6300').describe('An RDM6300 125 kHz serial reader (14-byte frames with an XOR checksum).'),
  ...serialFields,
});

export const id12laReaderSchema = z.strictObject({
  driver: z.literal('id12la').describe('An ID-Innovations ID-12LA/ID-20LA 125 kHz reader in ASCII output mode (16-byte frames with an XOR checksum).'),
  ...serialFields,
});

const gpioLine = z.number().int().min(0).max(63);

export const wiegandReaderSchema = z
  .strictObject({
    driver: z.literal('wiegand').describe('A Wiegand reader on two GPIO lines (5 V readers need level shifting, and a common ground).'),
    d0: gpioLine.describe('BCM number of the line wired to the reader\'s D0 (green wire).'),
    d1: gpioLine.describe('BCM number of the line wired to the reader\'s D1 (white wire).'),
    edges: z
      .enum(['gpiod', 'onoff'])
      .default('gpiod')
      .describe(
        'Where the edges come from: gpiod (the libgpiod tools, `sudo apt install gpiod`: kernel timestamps on both edges, the reliable choice on any Pi OS) or onoff (sysfs, Bookworm and older only: falling edges stamped on arrival, best effort).',
      ),
    chipLabel: z
      .string()
      .min(1)
      .optional()
      .describe('Label of the GPIO chip holding d0 and d1; by default the Pi\'s pin controller (pinctrl-rp1, -bcm2711 or -bcm2835).'),
    formats: z
      .array(z.union([z.literal(26), z.literal(34)]))
      .min(1, 'list the frame lengths the reader sends: [26], [34] or [26, 34]')
      .default([26, 34])
      .describe('Frame lengths taken. 26 gives the facility,number uid (3 bytes, as the fob\'s print "123,45678"); 34 gives the 32-bit number (4 bytes, the 10-digit number on EM4100 fobs).'),
    gapMs: z.number().int().min(5).max(500).default(25).describe('A frame ends after this long without an edge, ms.'),
    minPulseUs: z.number().int().min(0).max(1000).default(10).describe('A data pulse shorter than this is interference and spoils the frame, µs.'),
    maxPulseUs: z
      .number()
      .int()
      .min(50)
      .max(5000)
      .default(500)
      .describe('A line counts as low this long after it fell when its rising edge is not reported, µs (Wiegand pulses are 20-200 µs).'),
  })
  .refine((c) => c.d0 !== c.d1, { message: 'd0 and d1 are the same line: wire D0 and D1 to two different GPIO lines', path: ['d1'] });

export const simReaderSchema = z.strictObject({
  driver: z.literal('sim').describe('A simulated reader: cards are presented from the local panel, `keymesh-edge tap` or a test.'),
});

export type HidReaderConfig = z.output<typeof hidReaderSchema>;
export type Rdm6300ReaderConfig = z.output<typeof rdm6300ReaderSchema>;
export type Id12laReaderConfig = z.output<typeof id12laReaderSchema>;
export type WiegandReaderConfig = z.output<typeof wiegandReaderSchema>;
export type SimReaderConfig = z.output<typeof simReaderSchema>;
export type ReaderDriverConfig = HidReaderConfig | Rdm6300ReaderConfig | Id12laReaderConfig | WiegandReaderConfig | SimReaderConfig;
