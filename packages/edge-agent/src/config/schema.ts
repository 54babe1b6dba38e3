/**
 * The agent's config file (`keymesh-edge run --config edge.yaml`), zod all the way down: each
 * field says what it is (`keymesh-edge schema` prints it all as JSON Schema), and a bad value is
 * reported with its field, the value and the fix (load.ts). What the rules hold (a resource's
 * unlock time, idle timeout) is not here: only this node's wiring, timings and fallbacks.
 */
import { z } from 'zod';
import { BrokerAddress } from '@keymesh/protocol';
import { DoorSettings, MachineSettings, TapSettings } from '../controllers/settings.js';
import { firmataBoardsSchema } from '../drivers/firmata/schemas.js';
import { BuzzerConfig, DisplayConfig, InputConfig, OutputConfig, ReaderConfig } from '../drivers/configs.js';

export const PanelConfig = z.strictObject({
  host: z.string().min(1).max(255).default('127.0.0.1')
    .describe('address the local panel listens on: 127.0.0.1 for a kiosk screen on the Pi itself; 0.0.0.0 to show it on another screen of the LAN'),
  port: z.number().int().min(0).max(65535).default(8081).describe('TCP port of the local panel (0: any free one)'),
});

export const Devices = z.strictObject({
  reader: ReaderConfig.describe('the badge reader'),
  relay: OutputConfig.describe("the relay: the door's lock or the machine's contactor"),
  doorSensor: InputConfig.optional().describe('door: reed switch, active while the door is open'),
  exitButton: InputConfig.optional().describe('door: request-to-exit button, active while pressed'),
  estop: InputConfig.optional().describe('machine: emergency stop, active while pressed (wire it in series with the contactor too: software is the second stop, not the first)'),
  activity: InputConfig.optional().describe('machine: activity input (a current sensor), active while the machine works; resets the idle timer'),
  greenLed: OutputConfig.optional().describe('lit when access is granted'),
  redLed: OutputConfig.optional().describe('lit when access is refused'),
  buzzer: BuzzerConfig.optional().describe('beeps on allow, deny, warnings and alarms'),
  display: DisplayConfig.optional().describe('a character display showing the panel status'),
});
export type Devices = z.output<typeof Devices>;

export const SimCard = z.strictObject({
  label: z.string().min(1).max(60).describe('what the panel button says ("Ada (member)")'),
  uid: z.string().min(1).max(100).describe('the badge number the sim reader reports (hex bytes); turned into its card reference at once, never shown'),
});

export const EdgeConfig = z.strictObject({
  data: z.string().min(1).max(4096).default('keymesh-edge-data')
    .describe('the data folder `keymesh-edge enrol` made (keys, replica); relative paths are from the config file'),
  broker: z.strictObject({
    url: BrokerAddress.shape.url.optional().describe("the broker's URL, when it differs from the provisioning file's (mqtt://host:1883)"),
    reconnectMinMs: z.number().int().min(100).max(60_000).default(500).describe('first wait before reconnecting after the broker is lost (ms); it doubles each failed attempt'),
    reconnectMaxMs: z.number().int().min(1000).max(600_000).default(30_000).describe('longest wait between attempts to reconnect (ms)'),
  }).default({ reconnectMinMs: 500, reconnectMaxMs: 30_000 }).describe('the MQTT connection; taps never wait for it'),
  sync: z.strictObject({
    intervalMs: z.number().int().min(100).max(600_000).default(5000).describe('period of this node\'s signed haves and statuses (ms)'),
  }).default({ intervalMs: 5000 }),
  panel: z.union([z.literal(false), PanelConfig]).default({ host: '127.0.0.1', port: 8081 })
    .describe('the local web panel for a kiosk screen; false: none'),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('pino log level (one JSON line per event on stdout)'),
  }).default({ level: 'info' }),
  boards: firmataBoardsSchema.default({}),
  devices: Devices,
  taps: TapSettings.default(TapSettings.parse({})).describe('what counts as one tap, and how unknown cards are rate-limited'),
  door: DoorSettings.default(DoorSettings.parse({})).describe('door controller settings (nodes of kind door)'),
  machine: MachineSettings.default(MachineSettings.parse({})).describe('machine controller settings (nodes of kind machine)'),
  simCards: z.array(SimCard).max(32).default([]).describe('sim reader only: the demo badges the panel offers to tap'),
});
export type EdgeConfig = z.output<typeof EdgeConfig>;
