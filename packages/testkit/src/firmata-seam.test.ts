/**
 * The HD44780 model the LCD tests read through: fed hand-made controller traffic (the
 * datasheet's 4-bit initialisation, then text), it must show what a real LCD would. A model
 * that shows anything else would let a display driver pass its suite wrongly.
 */
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { FirmataSeam, Hd44780, parallelLcd, pcf8574Lcd } from './firmata-seam.js';

/** PCF8574 port writes for one nibble: EN (P2) high then low, RS on P0, backlight on P3. */
const strobe = (rs: boolean, nibble: number): number[] => {
  const b = (nibble << 4) | (rs ? 0x01 : 0) | 0x08;
  return [b | 0x04, b];
};
const byte = (rs: boolean, v: number): number[] => [...strobe(rs, v >> 4), ...strobe(rs, v & 0x0f)];
const text = (s: string): number[] => [...s].flatMap((c) => byte(true, c.charCodeAt(0)));
const INIT = [...strobe(false, 3), ...strobe(false, 3), ...strobe(false, 3), ...strobe(false, 2), ...byte(false, 0x28), ...byte(false, 0x0c), ...byte(false, 0x06), ...byte(false, 0x01)];

describe('Hd44780 model', () => {
  it('decodes a PCF8574 backpack: 4-bit init, text on both rows of a 16x2', () => {
    const lcd = pcf8574Lcd([...INIT, ...text('Hello'), ...byte(false, 0x80 | 0x40), ...text('World')]);
    expect(lcd.lines(2, 16)).toEqual(['Hello           ', 'World           ']);
  });

  it('is blank while the display is off, and a clear empties it', () => {
    const off = pcf8574Lcd([...INIT, ...text('Hi'), ...byte(false, 0x08)]);
    expect(off.displayOn).toBe(false);
    expect(off.lines(2, 8)).toEqual(['        ', '        ']);
    expect(pcf8574Lcd([...INIT, ...text('Hi'), ...byte(false, 0x01)]).lines(1, 8)).toEqual(['        ']);
  });

  it('places rows 3 and 4 of a 20x4 after rows 1 and 2 in memory, and wraps row 1 into row 2 past 40 characters', () => {
    const lcd = pcf8574Lcd([...INIT, ...byte(false, 0x80 | 0x14), ...text('third'), ...byte(false, 0x80 | 0x54), ...text('fourth')]);
    expect(lcd.lines(4, 20).map((l) => l.trimEnd())).toEqual(['', '', 'third', 'fourth']);
    const wrap = pcf8574Lcd([...INIT, ...text('x'.repeat(40) + 'y')]);
    expect(wrap.lines(2, 16)[1]!.trimEnd()).toBe('y');
  });

  it('ignores data written to CGRAM (custom characters), and nibbles before EN falls', () => {
    const lcd = new Hd44780();
    for (const n of [3, 3, 3, 2]) lcd.nibble(false, n);
    for (const b of [0x28, 0x0c, 0x40, 0x1f, 0x80]) {
      lcd.nibble(false, b >> 4);
      lcd.nibble(false, b & 0x0f);
    }
    lcd.nibble(true, 0x4);
    lcd.nibble(true, 0x1);
    expect(lcd.lines(1, 8)).toEqual(['A       ']);
    // EN held high: nothing latched yet.
    expect(pcf8574Lcd([...INIT, 0x44 | 0x01]).lines(1, 4)).toEqual(['    ']);
  });

  it('decodes parallel pins from a seam: EN falling latches D4-D7 and RS', () => {
    const noop = (..._args: unknown[]): void => {};
    const io = Object.assign(new EventEmitter(), { digitalWrite: noop, pinMode: noop, digitalRead: noop, i2cWrite: noop });
    const seam = new FirmataSeam(io);
    const [RS, EN, D4, D5, D6, D7] = [8, 9, 4, 5, 6, 7] as const;
    const nib = (rs: boolean, n: number) => {
      io.digitalWrite(RS, rs ? 1 : 0);
      [D4, D5, D6, D7].forEach((p, i) => io.digitalWrite(p, (n >> i) & 1));
      io.digitalWrite(EN, 1);
      io.digitalWrite(EN, 0);
    };
    for (const n of [3, 3, 3, 2]) nib(false, n);
    for (const b of [0x28, 0x0c, 0x06, 0x01]) (nib(false, b >> 4), nib(false, b & 0xf));
    for (const c of 'ok') (nib(true, c.charCodeAt(0) >> 4), nib(true, c.charCodeAt(0) & 0xf));
    expect(parallelLcd(seam, [RS, EN, D4, D5, D6, D7]).lines(1, 4)).toEqual(['ok  ']);
  });
});
