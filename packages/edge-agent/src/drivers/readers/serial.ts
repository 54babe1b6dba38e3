/**
 * Serial 125 kHz readers (RDM6300, ID-12LA) at 9600 8N1 through `serialport`, imported only
 * when config picks one. Framing and checksums are in framing.ts. On a Pi 3/4 the reader sits
 * on /dev/serial0 (serial console off, `enable_uart=1`); on a Pi 5 on /dev/ttyAMA0 with
 * `dtoverlay=uart0-pi5`; the agent's user is in group dialout.
 */
import { EdgeError } from '../../errors.js';
import type { DriverEnv } from '../env.js';
import { FrameParser, type FrameEvent, type SerialFraming } from './framing.js';
import { ReaderBase } from './reader-base.js';

/** What the reader needs of an open port (a serialport `SerialPortStream`). */
export interface SerialPortLike {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeAllListeners(event?: string): unknown;
  readonly isOpen: boolean;
  close(callback?: (err: Error | null) => void): void;
}

/** Opens `path` at `baudRate`; the default uses serialport's own binding, tests pass SerialPortMock. */
export type OpenSerialPort = (path: string, baudRate: number) => Promise<SerialPortLike>;

export const SERIAL_READER_BAUD = 9600;

export interface SerialReaderOptions {
  framing: SerialFraming;
  port: string;
  baudRate: number;
  maxFrameMs: number;
}

async function openWithSerialport(path: string, baudRate: number): Promise<SerialPortLike> {
  let mod: typeof import('serialport');
  try {
    mod = await import('serialport');
  } catch {
    throw new EdgeError('DRIVER_UNAVAILABLE', 'the serialport library is not installed: run npm install serialport in the agent folder');
  }
  const port = new mod.SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

export class SerialReader extends ReaderBase {
  readonly #parser: FrameParser;
  readonly #env: DriverEnv;
  #port: SerialPortLike | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, framing: SerialFraming, maxFrameMs: number, env: DriverEnv) {
    super(name);
    this.#parser = new FrameParser(framing, maxFrameMs);
    this.#env = env;
  }

  /** Takes an open port and reads frames from it. */
  attach(port: SerialPortLike): void {
    this.#port = port;
    port.on('data', (chunk) => this.#onEvents(this.#parser.push(chunk, this.#env.now())));
    port.on('error', (err) => this.emitError(`the serial port failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'DEVICE_FAILED'));
    port.on('close', () => this.emitError('the serial port closed (a USB adapter unplugged?)', 'DEVICE_FAILED'));
  }

  #onEvents(events: FrameEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'error') this.emitError(ev.detail);
      else this.emitRead(ev.uid, this.#env.now());
    }
    // a fragment is reported when it goes stale, not only when the next frame arrives
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#parser.inFrame && !this.closed) {
      this.#timer = setTimeout(() => this.#onEvents(this.#parser.expire(this.#env.now() + 1)), this.#parser.maxFrameMs + 1);
      this.#timer.unref();
    }
  }

  protected async release(): Promise<void> {
    clearTimeout(this.#timer);
    const port = this.#port;
    if (!port) return;
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    port.on('error', () => {});
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

export async function openSerialReader(
  name: string,
  opts: SerialReaderOptions,
  env: DriverEnv,
  openPort: OpenSerialPort = openWithSerialport,
): Promise<SerialReader> {
  const reader = new SerialReader(name, opts.framing, opts.maxFrameMs, env);
  let port: SerialPortLike;
  try {
    port = await openPort(opts.port, opts.baudRate);
  } catch (err) {
    if (err instanceof EdgeError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new EdgeError(
      'DRIVER_UNAVAILABLE',
      `reader ${name}: cannot open serial port ${opts.port} (${msg}); check the path (/dev/serial0 on a Pi 3/4 with the serial console off, /dev/ttyAMA0 on a Pi 5 with dtoverlay=uart0-pi5, /dev/ttyUSB0 for a USB adapter) and that the agent's user is in group dialout`,
    );
  }
  reader.attach(port);
  return reader;
}
