/**
 * The parts of johnny-five (which ships no types) this driver family uses. johnny-five is loaded
 * with a dynamic import only when a config names the johnny-five driver.
 */

export interface J5Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/** The board's IO plugin: firmata.js on a serial port, or MockFirmata in tests. */
export interface J5Io extends J5Emitter {
  readonly HIGH: number;
  readonly LOW: number;
  readonly MODES: { readonly INPUT: number; readonly OUTPUT: number };
  digitalWrite(pin: number, value: number): void;
  pinMode(pin: number, mode: number): void;
  digitalRead(pin: number, callback: (value: number) => void): void;
  reportDigitalPin?(pin: number, value: 0 | 1): void;
  removeAllListeners?(event: string): unknown;
  readonly analogPins?: readonly number[];
  /** firmata.js asks the board for its version once this fires (5 s); cleared when a board is given up. */
  reportVersionTimeoutId?: ReturnType<typeof setTimeout>;
  /** firmata.js's serial port (absent on MockFirmata). */
  transport?: { close?(callback?: (err?: Error | null) => void): void; isOpen?: boolean } | null;
}

export interface J5Board extends J5Emitter {
  readonly io: J5Io | null;
  readonly isReady: boolean;
  timer?: ReturnType<typeof setTimeout> | null;
}

export interface J5Relay {
  readonly pin: number;
  open(): unknown;
  close(): unknown;
}

export interface J5Led {
  readonly pin: number;
  on(): unknown;
  off(): unknown;
  stop(): unknown;
}

export interface J5Piezo {
  readonly pin: number;
  play(tune: { song: [number | null, number][]; tempo: number }, done?: () => void): unknown;
  frequency(hz: number, durationMs: number): unknown;
  stop(): unknown;
  off(): unknown;
}

export interface J5Button extends J5Emitter {
  readonly pin: number;
}

export interface J5Lcd {
  setCursor(col: number, row: number): unknown;
  print(text: string, opts?: { dontProcessSpecials?: boolean }): unknown;
  clear(): unknown;
  on(): unknown;
  off(): unknown;
}

type Ctor<T> = new (opts: Record<string, unknown>) => T;

export interface J5 {
  Board: Ctor<J5Board>;
  Relay: Ctor<J5Relay>;
  Led: Ctor<J5Led>;
  Piezo: Ctor<J5Piezo>;
  Button: Ctor<J5Button>;
  LCD: Ctor<J5Lcd>;
}
