import { emSerialFrame as emFrame } from '@keymesh/testkit/reader-frames';
import { decodeFrameBody, FrameParser } from './framing.js';

const uids = (events: ReturnType<FrameParser['push']>) => events.map((e) => (e.kind === 'uid' ? e.uid : `error: ${e.detail}`));

describe('EM4100 serial framing', () => {
  it('reads an RDM6300 frame as the 4 data bytes, the version byte dropped', () => {
    const p = new FrameParser('rdm6300');
    // the datasheet's example frame: 02 '62E3086CED' '08' 03 (0x62^0xE3^0x08^0x6C^0xED = 0x08)
    expect(uids(p.push(Buffer.from('\x0262E3086CED08\x03', 'latin1'), 0))).toEqual(['e3086ced']);
  });

  it('reads an ID-12LA frame (CR LF before ETX)', () => {
    const p = new FrameParser('id12la');
    expect(uids(p.push(emFrame('id12la', '00bc614e'), 0))).toEqual(['00bc614e']);
  });

  it('takes lowercase hex and frames split across chunks', () => {
    const p = new FrameParser('rdm6300');
    const f = emFrame('rdm6300', 'deadbeef', { lower: true });
    expect(p.push(f.subarray(0, 5), 0)).toEqual([]);
    expect(p.inFrame).toBe(true);
    expect(uids(p.push(f.subarray(5), 5))).toEqual(['deadbeef']);
    expect(p.inFrame).toBe(false);
  });

  it('refuses a bad checksum without naming the bytes', () => {
    const p = new FrameParser('rdm6300');
    const out = uids(p.push(emFrame('rdm6300', '00bc614e', { checksum: 0x55 }), 0));
    expect(out).toEqual([expect.stringContaining('bad checksum')]);
    expect(out[0]).not.toMatch(/bc614e|BC614E|12345678/);
  });

  it('refuses characters that are not hex', () => {
    expect(decodeFrameBody('rdm6300', [...Buffer.from('1A00BC614EZZ')])).toEqual({ kind: 'error', detail: expect.stringContaining('not hex') });
  });

  it('refuses an ID-12LA frame without CR LF, and frames of the wrong length', () => {
    expect(decodeFrameBody('id12la', [...Buffer.from('1A00BC614EXX  ')])).toEqual({ kind: 'error', detail: expect.stringContaining('CR LF') });
    expect(decodeFrameBody('rdm6300', [...Buffer.from('1A00BC614E')])).toEqual({ kind: 'error', detail: expect.stringContaining('wrong length') });
    const p = new FrameParser('rdm6300');
    // an RDM6300 frame given to an ID-12LA parser: ETX where CR should be
    expect(uids(new FrameParser('id12la').push(emFrame('rdm6300', '00bc614e'), 0))).toEqual([expect.stringContaining('wrong length')]);
    // an ID-12LA frame given to an RDM6300 parser: too long
    expect(uids(p.push(emFrame('id12la', '00bc614e'), 0))).toEqual([expect.stringContaining('longer than its framing')]);
  });

  it('resyncs after noise: stray bytes are dropped, a cut frame is reported, the next frame reads', () => {
    const p = new FrameParser('rdm6300');
    const noise = Buffer.from([0xff, 0x00, 0x41, 0x03, 0x7f]);
    const cut = emFrame('rdm6300', '11223344').subarray(0, 7);
    const out = uids(p.push(Buffer.concat([noise, cut, emFrame('rdm6300', '55667788'), noise, emFrame('rdm6300', '99aabbcc')]), 0));
    expect(out).toEqual([expect.stringContaining('cut short'), '55667788', '99aabbcc']);
  });

  it('drops a fragment that goes stale', () => {
    const p = new FrameParser('rdm6300', 100);
    const f = emFrame('rdm6300', '00bc614e');
    p.push(f.subarray(0, 6), 1000);
    expect(p.expire(1050)).toEqual([]);
    expect(uids(p.expire(1101))).toEqual([expect.stringContaining('not finished')]);
    // the rest of it, arriving late, is noise outside a frame
    expect(p.push(f.subarray(6), 1200)).toEqual([]);
    expect(uids(p.push(f, 1300))).toEqual(['00bc614e']);
  });

  it('a stale fragment is reported when the next bytes arrive', () => {
    const p = new FrameParser('rdm6300', 100);
    const f = emFrame('rdm6300', '00bc614e');
    p.push(f.subarray(0, 6), 0);
    expect(uids(p.push(f, 500))).toEqual([expect.stringContaining('not finished'), '00bc614e']);
  });
});
