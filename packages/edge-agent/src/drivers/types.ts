/**
 * The devices an edge drives (DESIGN §9), each behind a small interface. A driver is chosen in
 * config; its library is imported only when config selects it (drivers/open.ts).
 *
 * Outputs are written synchronously: the safe state must be reachable from an exit path that
 * cannot wait (an uncaught error, a signal), and the relay moves before the tap's entry is
 * committed. `write` never throws for a line that opened; a failing line reports through
 * `onError` and the agent drives everything safe.
 */
import type { CardUid } from '@keymesh/protocol';

export interface DeviceBase {
  /** The config name of the device, for logs and `doctor` ("relay", "doorSensor"...). */
  readonly name: string;
  /** Releases the line or port. Outputs are driven to their safe level first. */
  close(): Promise<void>;
}

/** A relay, a LED or a GPIO buzzer: on or off. Active-low and NO/NC wiring are the driver's business: `true` always means energised/lit. */
export interface Output extends DeviceBase {
  /** Drives the output; synchronous (see above). */
  write(on: boolean): void;
  /** What was last written. */
  readonly value: boolean;
}

/** A door sensor, an exit button, an e-stop, an activity input. `true` always means active (door open, button pressed), whatever the wiring. */
export interface DigitalInput extends DeviceBase {
  /** The current (debounced) level. */
  read(): boolean;
  /** Called on each debounced change, with when it happened (ms since the epoch). Returns the unsubscribe. */
  watch(listener: (active: boolean, atMs: number) => void): () => void;
}

/** A character display (an LCD on a Firmata board; the terminal in sim). */
export interface Display extends DeviceBase {
  readonly columns: number;
  readonly rows: number;
  /** Shows these lines (cut to the display's size). */
  show(lines: readonly string[]): void;
}

export type BeepPattern = 'allow' | 'deny' | 'warn' | 'alarm';

export interface Buzzer extends DeviceBase {
  beep(pattern: BeepPattern): void;
  /** Silences it at once (safe state). */
  off(): void;
}

/**
 * A badge reader. It reports each read as a uid in the canonical form `cardRef` takes; the
 * agent turns it into the card's reference at once (DESIGN §3) and nothing past that sees it.
 * Frames that fail their checksum or parity are reported through `onError`, never as a read.
 */
export interface Reader extends DeviceBase {
  onRead(listener: (uid: CardUid, atMs: number) => void): () => void;
  onError(listener: (err: Error) => void): () => void;
}
