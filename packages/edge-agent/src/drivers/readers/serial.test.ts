import { SerialPortMock } from 'serialport';

// @serialport/binding-mock's MockBinding, as serialport re-exports it (its own package has no ESM types)
const MockBinding = SerialPortMock.binding;
import { readerSuite } from '@keymesh/testkit/driver-suites/reader-suite';
import { emSerialFrame } from '@keymesh/testkit/reader-frames';
import type { CardUid } from '@keymesh/protocol';
import { openReader, type OpenSerialPort } from './index.js';
import type { DriverEnv } from '../env.js';

const env: DriverEnv = { log: () => {}, now: () => Date.now() };

/** A serial seam on serialport's mock binding: the real SerialPortStream code path, bytes emitted by the "device". */
function mockSerial(path: string) {
  let port: SerialPortMock | undefined;
  const openSerialPort: OpenSerialPort = async (p, baudRate) => {
    const sp = new SerialPortMock({ path: p, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
    port = sp;
    return sp;
  };
  const emit = async (bytes: Buffer) => {
    if (!port?.port) throw new Error('the mock port is not open');
    port.port.emitData(bytes);
  };
  return {
    openSerialPort,
    emit,
    get port() {
      return port;
    },
    create: () => MockBinding.createPort(path, { echo: false, record: false }),
    reset: () => {
      port = undefined;
      MockBinding.reset();
    },
  };
}

for (const framing of ['rdm6300', 'id12la'] as const) {
  const seam = mockSerial(`/dev/tty-${framing}`);
  readerSuite(framing, {
    uids: ['00bc614e', 'e3086ced'],
    open: async () => {
      seam.create();
      return openReader('reader', { driver: framing, port: `/dev/tty-${framing}`, baudRate: 9600, maxFrameMs: 200 }, env, { openSerialPort: seam.openSerialPort });
    },
    presentGood: (uid) => seam.emit(emSerialFrame(framing, uid)),
    presentGarbage: () => seam.emit(emSerialFrame(framing, '00bc614e', { checksum: 0x00 })),
    cleanup: async () => seam.reset(),
  });
}

describe('serial readers over serialport', () => {
  const seam = mockSerial('/dev/ttyRDM');
  afterEach(() => seam.reset());

  async function open() {
    seam.create();
    const reader = await openReader('door', { driver: 'rdm6300', port: '/dev/ttyRDM', baudRate: 9600, maxFrameMs: 100 }, env, { openSerialPort: seam.openSerialPort });
    const reads: CardUid[] = [];
    const errors: Error[] = [];
    reader.onRead((uid) => reads.push(uid));
    reader.onError((err) => errors.push(err));
    return { reader, reads, errors };
  }

  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };

  it('opens the port at 9600 baud and reads through noise, a split frame and a cut frame', async () => {
    const { reader, reads, errors } = await open();
    expect(seam.port?.baudRate).toBe(9600);
    const f = emSerialFrame('rdm6300', '0a0b0c0d');
    await seam.emit(Buffer.from([0xff, 0x13, 0x37]));
    await seam.emit(f.subarray(0, 4));
    await seam.emit(f.subarray(4));
    await seam.emit(Buffer.concat([f.subarray(0, 9), emSerialFrame('rdm6300', '01020304')]));
    await until(() => reads.length === 2);
    expect(reads).toEqual(['0a0b0c0d', '01020304']);
    expect(errors.map((e) => (e as Error & { code: string }).code)).toEqual(['BAD_READ']);
    expect(errors[0]!.message).toContain('cut short');
    await reader.close();
  });

  it('reports a fragment left unfinished once it goes stale, with no further data', async () => {
    const { reader, reads, errors } = await open();
    await seam.emit(emSerialFrame('rdm6300', '0a0b0c0d').subarray(0, 8));
    await until(() => errors.length === 1);
    expect(errors[0]!.message).toContain('not finished');
    expect(reads).toEqual([]);
    await reader.close();
  });

  it('closes the port on close', async () => {
    const { reader } = await open();
    expect(seam.port?.isOpen).toBe(true);
    await reader.close();
    expect(seam.port?.isOpen).toBe(false);
  });

  it('a port that cannot be opened is DRIVER_UNAVAILABLE, naming the fix', async () => {
    await expect(
      openReader('door', { driver: 'id12la', port: '/dev/ttyNOPE', baudRate: 9600, maxFrameMs: 200 }, env, { openSerialPort: seam.openSerialPort }),
    ).rejects.toMatchObject({ code: 'DRIVER_UNAVAILABLE', message: expect.stringMatching(/ttyNOPE.*dialout/) });
  });
});
