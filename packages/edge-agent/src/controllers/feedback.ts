/**
 * The LEDs and the buzzer a member sees and hears at a reader: green and an allow beep, red
 * and a deny beep, red and the alarm pattern while an alarm lasts. Every device is optional.
 * `safe()` puts them all out at once (synchronously, for exit paths).
 */
import type { BeepPattern, Buzzer, Output } from '../drivers/types.js';

export interface FeedbackDevices {
  greenLed?: Output;
  redLed?: Output;
  buzzer?: Buzzer;
}

export class Feedback {
  private flash: ReturnType<typeof setTimeout> | null = null;
  private alarming = false;

  constructor(private readonly devices: FeedbackDevices, private readonly denyFlashMs: number) {}

  /** Green on (while access lasts) and, with `beep`, the allow beep. */
  granted(beep = true): void {
    this.devices.greenLed?.write(true);
    if (beep) this.beep('allow');
  }

  /** Green off (access over). */
  ended(): void {
    this.devices.greenLed?.write(false);
  }

  /** Red for a moment and the deny beep. */
  denied(): void {
    this.devices.redLed?.write(true);
    this.beep('deny');
    this.clearFlash();
    this.flash = setTimeout(() => {
      this.flash = null;
      if (!this.alarming) this.devices.redLed?.write(false);
    }, this.denyFlashMs);
  }

  beep(pattern: BeepPattern): void {
    this.devices.buzzer?.beep(pattern);
  }

  /** Red and the alarm pattern until `alarmOff()`. */
  alarm(): void {
    this.alarming = true;
    this.devices.redLed?.write(true);
    this.beep('alarm');
  }

  alarmOff(): void {
    if (!this.alarming) return;
    this.alarming = false;
    this.devices.buzzer?.off();
    if (this.flash === null) this.devices.redLed?.write(false);
  }

  safe(): void {
    this.clearFlash();
    this.alarming = false;
    this.devices.greenLed?.write(false);
    this.devices.redLed?.write(false);
    this.devices.buzzer?.off();
  }

  private clearFlash(): void {
    if (this.flash !== null) clearTimeout(this.flash);
    this.flash = null;
  }
}
