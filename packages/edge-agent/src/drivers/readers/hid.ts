/**
 * USB HID keyboard-wedge badge readers, read from their evdev node (/dev/input/event*; name it
 * by /dev/input/by-id/usb-…-event-kbd, which survives reboots and replugging). Decoding is in
 * hid-keys.ts; this file opens the device and turns decoded text into reads.
 *
 * The agent's user needs read access to the node: group `input`, or the udev rule of
 * hardware/pi-setup.md (which also gives the reader a fixed name, /dev/input/keymesh-reader).
 *
 * Grabbing: the kernel also hands the reader's keys to the text console and to any desktop, so
 * a card tapped at a login prompt is typed into it. EVIOCGRAB would stop that, but it is an
 * ioctl and Node has none without a native addon, so this driver does not grab. Instead
 * (hardware/pi-setup.md): mask the console login on a node without a keyboard (`systemctl mask
 * getty@tty1`), and the udev rule's `LIBINPUT_IGNORE_DEVICE` keeps the reader out of a desktop
 * or kiosk browser session; or use a reader with a serial mode.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { ReadStream } from 'node:fs';
import { EdgeError } from '../../errors.js';
import type { DriverEnv } from '../env.js';
import { EVENT_BYTES, KeyWedgeDecoder, type EventLayout, type WedgeEvent } from './hid-keys.js';
import { ReaderBase } from './reader-base.js';

export interface HidReaderOptions {
  device: string;
  form: 'decimal' | 'hex';
  layout: EventLayout;
  maxReadMs: number;
  maxChars: number;
}

export class HidReader extends ReaderBase {
  readonly #decoder: KeyWedgeDecoder;
  readonly #env: DriverEnv;
  #handle: FileHandle | undefined;
  #stream: ReadStream | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, opts: HidReaderOptions, env: DriverEnv) {
    super(name);
    this.#env = env;
    this.#decoder = new KeyWedgeDecoder(opts);
  }

  /** Opens the device and starts reading; throws DRIVER_UNAVAILABLE naming the fix. */
  async start(device: string): Promise<void> {
    try {
      this.#handle = await open(device, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const fix =
        code === 'EACCES' || code === 'EPERM'
          ? "the agent's user may not read it: add the user to group input (or a udev rule for the reader)"
          : 'check the path: /dev/input/by-id/ lists the plugged readers (…-event-kbd)';
      throw new EdgeError('DRIVER_UNAVAILABLE', `reader ${this.name}: cannot open ${device} (${code ?? 'error'}); ${fix}`);
    }
    const size = EVENT_BYTES[this.#decoder.opts.layout];
    const stream = this.#handle.createReadStream({ highWaterMark: size * 64 });
    this.#stream = stream;
    stream.on('data', (chunk) => this.#onEvents(this.#decoder.push(chunk as Buffer)));
    stream.on('error', (err) => this.emitError(`the device failed (${(err as NodeJS.ErrnoException).code ?? 'error'}; unplugged?)`, 'DEVICE_FAILED'));
    stream.on('end', () => this.emitError('the device closed (unplugged?)', 'DEVICE_FAILED'));
  }

  #onEvents(events: WedgeEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'error') {
        this.emitError(ev.detail);
        continue;
      }
      const uid = this.canonical(ev.text, ev.form);
      if (uid !== undefined) this.emitRead(uid, this.#env.now());
    }
    // a read whose Enter never comes is dropped after maxReadMs, so its keys are not joined to the next card's
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#decoder.inRead && !this.closed) {
      this.#timer = setTimeout(() => this.#onEvents(this.#decoder.abandon()), this.#decoder.opts.maxReadMs);
      this.#timer.unref();
    }
  }

  protected async release(): Promise<void> {
    clearTimeout(this.#timer);
    this.#decoder.abandon();
    const stream = this.#stream;
    if (!stream) return;
    stream.removeAllListeners('data');
    stream.on('error', () => {});
    // A read of an evdev node blocks in libuv's thread pool until the next event, and the stream
    // closes its file only after that read returns: close() does not wait for it past 100 ms.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 100);
      t.unref();
      stream.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      stream.destroy();
    });
  }
}

export async function openHidReader(name: string, opts: HidReaderOptions, env: DriverEnv): Promise<HidReader> {
  const reader = new HidReader(name, opts, env);
  await reader.start(opts.device);
  return reader;
}
