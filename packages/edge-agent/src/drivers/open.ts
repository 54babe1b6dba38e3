/**
 * Opens the devices config names, each through its driver family, whose module (and so its
 * library: onoff, johnny-five, serialport) is imported only when some device names it.
 * Outputs first: each opens at its de-energised level (the drivers' contract), so the relay is
 * safe before the agent does anything else (DESIGN §9).
 */
import type { Devices } from '../config/schema.js';
import { EdgeError } from '../errors.js';
import type { DriverEnv } from './env.js';
import type { Buzzer, DeviceBase, DigitalInput, Display, Output, Reader } from './types.js';

type Opener<T> = (name: string, cfg: never, env: DriverEnv, extra?: never) => Promise<T>;
interface Family {
  openOutput?: Opener<Output>;
  openInput?: Opener<DigitalInput>;
  openReader?: Opener<Reader>;
  openBuzzer?: Opener<Buzzer>;
  openDisplay?: Opener<Display>;
}

type Kind = 'output' | 'input' | 'reader' | 'buzzer' | 'display';

const sim = () => import('./sim/index.js') as unknown as Promise<Family>;
const firmata = () => import('./firmata/index.js') as unknown as Promise<Family>;
const gpio = () => import('./gpio/index.js') as unknown as Promise<Family>;
const readers = () => import('./readers/index.js') as unknown as Promise<Family>;

/** driver name → its family module, per kind. */
const FAMILIES: Record<Kind, Record<string, () => Promise<Family>>> = {
  output: { sim, onoff: gpio, gpiod: gpio, 'johnny-five': firmata },
  input: { sim, onoff: gpio, gpiod: gpio, 'johnny-five': firmata },
  reader: { sim: readers, hid: readers, rdm6300: readers, id12la: readers, wiegand: readers },
  buzzer: { sim, onoff: gpio, gpiod: gpio, 'johnny-five': firmata },
  display: { sim, 'johnny-five': firmata },
};

const OPENER: Record<Kind, keyof Family> = { output: 'openOutput', input: 'openInput', reader: 'openReader', buzzer: 'openBuzzer', display: 'openDisplay' };

/** What some families take besides their config: the Firmata boards (opened once, shared). */
interface Shared {
  boards: Record<string, unknown>;
  firmata?: Promise<{ close(): Promise<void> }>;
}

async function extraFor(driver: string, shared: Shared, env: DriverEnv): Promise<unknown> {
  if (driver !== 'johnny-five') return undefined;
  shared.firmata ??= (async () => {
    const { FirmataBoards, firmataBoardsSchema } = await import('./firmata/index.js');
    return new FirmataBoards(firmataBoardsSchema.parse(shared.boards), env);
  })();
  return shared.firmata;
}

async function openOne<T>(kind: Kind, name: string, cfg: { driver: string }, env: DriverEnv, shared: Shared): Promise<T> {
  const load = FAMILIES[kind][cfg.driver];
  const open = load ? (await load())[OPENER[kind]] : undefined;
  if (!open) throw new EdgeError('BAD_CONFIG', `devices.${name}: no ${kind} driver "${cfg.driver}"; use one of ${Object.keys(FAMILIES[kind]).join(', ')}.`, { device: name });
  try {
    return await (open as (n: string, c: unknown, e: DriverEnv, x?: unknown) => Promise<T>)(name, cfg, env, await extraFor(cfg.driver, shared, env));
  } catch (err) {
    if (err instanceof EdgeError) throw err;
    throw new EdgeError('DEVICE_FAILED', `devices.${name} (driver ${cfg.driver}) did not open: ${(err as Error).message}`, { device: name }, { cause: err });
  }
}

export interface OpenDevices {
  reader: Reader;
  relay: Output;
  doorSensor?: DigitalInput;
  exitButton?: DigitalInput;
  estop?: DigitalInput;
  activity?: DigitalInput;
  greenLed?: Output;
  redLed?: Output;
  buzzer?: Buzzer;
  display?: Display;
}

export const OUTPUT_ROLES = ['relay', 'greenLed', 'redLed'] as const;
export const INPUT_ROLES = ['doorSensor', 'exitButton', 'estop', 'activity'] as const;

/**
 * Opens the outputs (and the buzzer), then the rest. If one fails, what was opened is closed
 * (outputs released at their safe level) and the error names the device.
 */
export async function openDevices(cfg: Devices, env: DriverEnv, boards: Record<string, unknown> = {}): Promise<OpenDevices> {
  const shared: Shared = { boards };
  const opened: DeviceBase[] = [];
  const take = <T extends DeviceBase>(d: T): T => (opened.push(d), d);
  const out: Partial<OpenDevices> = {};
  try {
    for (const role of OUTPUT_ROLES) {
      const c = cfg[role];
      if (c) out[role] = take(await openOne<Output>('output', role, c, env, shared));
    }
    if (cfg.buzzer) out.buzzer = take(await openOne<Buzzer>('buzzer', 'buzzer', cfg.buzzer, env, shared));
    for (const role of INPUT_ROLES) {
      const c = cfg[role];
      if (c) out[role] = take(await openOne<DigitalInput>('input', role, c, env, shared));
    }
    if (cfg.display) out.display = take(await openOne<Display>('display', 'display', cfg.display, env, shared));
    out.reader = take(await openOne<Reader>('reader', 'reader', cfg.reader, env, shared));
  } catch (err) {
    await closeDevices(opened);
    await (await shared.firmata)?.close().catch(() => undefined);
    throw err;
  }
  if (shared.firmata) boardsOf.set(out, shared.firmata);
  return out as OpenDevices;
}

/** The Firmata boards a set of devices shares, closed after the devices. */
const boardsOf = new WeakMap<object, Promise<{ close(): Promise<void> }>>();

/** Closes every device (outputs released at their safe level), then the boards they share. */
export async function closeAllDevices(d: OpenDevices): Promise<void> {
  await closeDevices(deviceList(d));
  await (await boardsOf.get(d))?.close().catch(() => undefined);
}

/** Every output off at once, synchronously: for exit paths that cannot wait. Never throws. */
export function allOutputsOff(d: Partial<OpenDevices>): void {
  for (const role of OUTPUT_ROLES) {
    try {
      d[role]?.write(false);
    } catch {
      // an output that fails here fails closed: its driver released the line
    }
  }
  try {
    d.buzzer?.off();
  } catch {
    // as above
  }
}

export async function closeDevices(devices: Iterable<DeviceBase | undefined>): Promise<void> {
  for (const d of devices) await d?.close().catch(() => undefined);
}

export function deviceList(d: Partial<OpenDevices>): DeviceBase[] {
  return (Object.values(d) as Array<DeviceBase | undefined>).filter((x): x is DeviceBase => x !== undefined);
}
