import { readerSuite } from '@keymesh/testkit/driver-suites/reader-suite';
import type { CardUid } from '@keymesh/protocol';
import { SimReader, openReader, hidReaderSchema, rdm6300ReaderSchema, id12laReaderSchema, simReaderSchema, wiegandReaderSchema } from './index.js';
import type { DriverEnv } from '../env.js';

const env: DriverEnv = { log: () => {}, now: () => 1234 };

let sim: SimReader | undefined;
readerSuite('sim', {
  uids: ['04a1b2c3d4e5f6', '00bc614e'],
  open: async () => {
    const r = await openReader('reader', { driver: 'sim' }, env);
    sim = r as SimReader;
    return r;
  },
  presentGood: async (uid) => void sim!.present(uid.toUpperCase().replace(/(..)(?!$)/g, '$1:')),
  presentGarbage: async () => void sim!.present('not a card'),
});

describe('sim reader', () => {
  it('takes a uid as a person types it: hex, the decimal on the fob, a facility print', () => {
    const r = new SimReader('reader', env);
    const reads: [CardUid, number][] = [];
    r.onRead((uid, at) => reads.push([uid, at]));
    expect(r.present('0x00BC614E')).toBe('00bc614e');
    expect(r.present('0012345678', 'decimal')).toBe('00bc614e');
    expect(r.present('123,45678', 'facility')).toBe('7bb26e');
    expect(reads).toEqual([['00bc614e', 1234], ['00bc614e', 1234], ['7bb26e', 1234]]);
  });

  it('reports text that is not a uid without quoting it', () => {
    const r = new SimReader('reader', env);
    const errors: Error[] = [];
    r.onError((e) => errors.push(e));
    expect(r.present('123456789', 'facility')).toBeUndefined();
    expect(r.present('abc')).toBeUndefined();
    expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(['BAD_READ', 'BAD_READ']);
    for (const e of errors) expect(e.message).not.toMatch(/123456789|abc/);
  });

  it('an unsubscribed listener hears nothing more', () => {
    const r = new SimReader('reader', env);
    const reads: CardUid[] = [];
    const off = r.onRead((uid) => reads.push(uid));
    r.present('01');
    off();
    r.present('02');
    expect(reads).toEqual(['01']);
  });
});

describe('reader config schemas', () => {
  it('fill defaults', () => {
    expect(hidReaderSchema.parse({ driver: 'hid', device: '/dev/input/by-id/usb-x-event-kbd' })).toEqual({
      driver: 'hid',
      device: '/dev/input/by-id/usb-x-event-kbd',
      form: 'decimal',
      layout: 'auto',
      maxReadMs: 1000,
    });
    expect(rdm6300ReaderSchema.parse({ driver: 'rdm6300' })).toEqual({ driver: 'rdm6300', port: '/dev/serial0', baudRate: 9600, maxFrameMs: 200 });
    expect(id12laReaderSchema.parse({ driver: 'id12la', port: '/dev/ttyAMA0' })).toMatchObject({ port: '/dev/ttyAMA0', baudRate: 9600 });
    expect(simReaderSchema.parse({ driver: 'sim' })).toEqual({ driver: 'sim' });
  });

  it('refuse unknown fields and bad values, naming the fix', () => {
    expect(hidReaderSchema.safeParse({ driver: 'hid', device: '' }).error?.issues[0]?.message).toContain('/dev/input/by-id/');
    expect(hidReaderSchema.safeParse({ driver: 'hid', device: '/dev/input/event0', form: 'facility' }).success).toBe(false);
    expect(rdm6300ReaderSchema.safeParse({ driver: 'rdm6300', baud: 9600 }).success).toBe(false);
  });

  it('every field is described (the schema documents the config)', () => {
    for (const schema of [hidReaderSchema, rdm6300ReaderSchema, id12laReaderSchema, wiegandReaderSchema, simReaderSchema]) {
      for (const [key, field] of Object.entries(schema.shape)) expect([key, (field as { description?: string }).description]).toEqual([key, expect.any(String)]);
    }
  });
});
