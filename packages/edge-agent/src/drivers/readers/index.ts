/**
 * The badge reader family: USB HID keyboard wedge (hid), serial RDM6300 and ID-12LA, Wiegand
 * 26/34, and sim. Each reports the uid in the canonical form `cardRef` takes (see each driver
 * for the form it reads). Libraries (serialport, the GPIO edge source) are imported only when
 * config names a driver that needs them.
 */
import type { DriverEnv } from '../env.js';
import type { EdgeDeps } from '../gpio/edges.js';
import type { Reader } from '../types.js';
import { defaultEventLayout } from './hid-keys.js';
import { HidReader, openHidReader } from './hid.js';
import type { ReaderDriverConfig, WiegandReaderConfig } from './schemas.js';
import { openSerialReader, SERIAL_READER_BAUD, SerialReader, type OpenSerialPort, type SerialPortLike } from './serial.js';
import { SimReader } from './sim.js';
import { openWiegandReader, WiegandReader, type EdgeCallback, type WatchEdges } from './wiegand.js';

export * from './schemas.js';
export { HidReader, SerialReader, WiegandReader, SimReader, SERIAL_READER_BAUD, defaultEventLayout };
export type { OpenSerialPort, SerialPortLike, WatchEdges, EdgeCallback };

/** Seams a caller may supply instead of the real libraries (tests, a board of its own). */
export interface ReaderDeps {
  /** Opens a serial port (default: serialport's SerialPort). */
  openSerialPort?: OpenSerialPort;
  /** Watches GPIO edges for Wiegand (default: the gpio family's watchEdges, given edgeDeps). */
  watchEdges?: WatchEdges;
  /** What the gpio family's watchEdges takes besides config (tests: the fake libgpiod tools). */
  edgeDeps?: EdgeDeps;
}

/** Most characters a wedge read may hold (a 32-byte uid in hex). */
const HID_MAX_CHARS = 64;

/** The gpio family's edge source, imported only when a Wiegand reader opens. */
async function gpioEdges(cfg: WiegandReaderConfig, env: DriverEnv, deps?: EdgeDeps): Promise<WatchEdges> {
  const { watchEdges } = await import('../gpio/edges.js');
  const source = cfg.chipLabel === undefined ? { driver: cfg.edges } : { driver: cfg.edges, chipLabel: cfg.chipLabel };
  return (lines, cb) => watchEdges(source, lines, cb, env, deps);
}

export async function openReader(name: string, cfg: ReaderDriverConfig, env: DriverEnv, deps: ReaderDeps = {}): Promise<Reader> {
  switch (cfg.driver) {
    case 'hid':
      return openHidReader(
        name,
        {
          device: cfg.device,
          form: cfg.form,
          layout: cfg.layout === 'auto' ? defaultEventLayout() : cfg.layout,
          maxReadMs: cfg.maxReadMs,
          maxChars: HID_MAX_CHARS,
        },
        env,
      );
    case 'rdm6300':
    case 'id12la':
      return openSerialReader(name, { framing: cfg.driver, port: cfg.port, baudRate: cfg.baudRate, maxFrameMs: cfg.maxFrameMs }, env, deps.openSerialPort);
    case 'wiegand':
      return openWiegandReader(
        name,
        {
          d0: cfg.d0,
          d1: cfg.d1,
          formats: cfg.formats,
          gapMs: cfg.gapMs,
          minPulseUs: cfg.minPulseUs,
          // onoff reports falling edges only, stamped on arrival: two bits' wake-ups may arrive
          // together, so "both lines low at once" cannot be told from latency there
          maxPulseUs: cfg.edges === 'onoff' ? 0 : cfg.maxPulseUs,
        },
        env,
        deps.watchEdges ?? (await gpioEdges(cfg, env, deps.edgeDeps)),
      );
    case 'sim':
      return new SimReader(name, env);
  }
}
