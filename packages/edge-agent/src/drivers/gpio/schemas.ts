/** Config of the GPIO drivers: onoff (sysfs GPIO) and gpiod (the GPIO character device). */
import { z } from 'zod';

const pin = z
  .number()
  .int()
  .min(0)
  .max(63)
  .describe('The BCM GPIO number (GPIO17 is 17; not the header pin number). Mapped to the chip the driver finds, so it is the same on every Pi.');
const activeLow = z
  .boolean()
  .default(false)
  .describe('The line is active when low (most relay boards: IN low = relay on). `true` in the agent still means energised/active.');
const chipLabel = z
  .string()
  .min(1)
  .max(64)
  .optional()
  .describe('The label of the GPIO chip holding the pin (as gpiodetect or /sys/class/gpio/gpiochip*/label shows). Default: the first of pinctrl-rp1 (Pi 5), pinctrl-bcm2711 (Pi 4), pinctrl-bcm2835 (Pi 0-3) found.');
const debounceMs = z
  .number()
  .int()
  .min(0)
  .max(1000)
  .default(20)
  .describe('A change counts once the input has held its new level this long (ms): hides contact bounce. 0 reports every edge.');

const onoffDriver = z
  .literal('onoff')
  .describe('Linux sysfs GPIO through the onoff library. Needs /sys/class/gpio (Raspberry Pi OS up to Bookworm); on Trixie and the Pi 5 use driver gpiod.');
const gpiodDriver = z
  .literal('gpiod')
  .describe('The kernel GPIO character device through the libgpiod tools (sudo apt install gpiod), v1.6 or v2. Works on every current Raspberry Pi OS and the Pi 5.');

/** An output (relay, LED, active buzzer) through onoff. */
export const onoffOutputSchema = z.strictObject({ driver: onoffDriver, pin, activeLow, chipLabel });

/** An input (door sensor, exit button, e-stop, activity) through onoff. sysfs cannot set pull resistors: wire them (hardware/). */
export const onoffInputSchema = z.strictObject({ driver: onoffDriver, pin, activeLow, chipLabel, debounceMs });

/** An output through gpiod. */
export const gpiodOutputSchema = z.strictObject({ driver: gpiodDriver, pin, activeLow, chipLabel });

/** An input through gpiod. */
export const gpiodInputSchema = z.strictObject({
  driver: gpiodDriver,
  pin,
  activeLow,
  chipLabel,
  debounceMs,
  bias: z
    .enum(['as-is', 'pull-up', 'pull-down', 'disabled'])
    .default('as-is')
    .describe("The SoC's internal pull resistor for the line. 'as-is' leaves it as the boot config set it; a switch to ground wants 'pull-up' (and activeLow)."),
});

export type OnoffOutputConfig = z.output<typeof onoffOutputSchema>;
export type OnoffInputConfig = z.output<typeof onoffInputSchema>;
export type GpiodOutputConfig = z.output<typeof gpiodOutputSchema>;
export type GpiodInputConfig = z.output<typeof gpiodInputSchema>;
