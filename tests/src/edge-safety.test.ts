// Every output safe before anything else at start, and on the way out (DESIGN §9: a relay that
// flickered on at boot opened a front door). In process: the order of output writes and start
// steps. As a real process (edge-safety-child.ts, the agent with installSafety as
// `keymesh-edge run` has it): SIGTERM, and an error thrown from a timer, while the door is
// unlocked leave the relay at its safe level.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '@keymesh/edge-agent/agent/agent';
import { loadConfig } from '@keymesh/edge-agent/config/load';
import { SimOutput } from '@keymesh/edge-agent/drivers/sim/index';
import { createLogger } from '@keymesh/edge-agent/log';
import { PI5_CHIPS, fakeGpioTools } from '@keymesh/testkit/fake-gpio-tools/fake-gpio-tools';
import { lineKey } from '@keymesh/testkit/fake-gpio-tools/state';
import { eventually, exited, start, stopAll } from '@keymesh/testkit/processes';
import { CARDS, Panel, freePort, makeSite, startEdge, startServe, writeEdgeConfig, type EdgeSite } from './edge-site.js';

const CHILD = fileURLToPath(new URL('./edge-safety-child.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'km-edge-safety-'));
let site: EdgeSite;
/** A broker nobody listens on: the agent starts without the network and never waits for it. */
let deadBroker: string;
/** The coordinator the fixture agents take their rules from (a tap needs Ada's card in the replica). */
let broker: string;

beforeAll(async () => {
  deadBroker = `mqtt://127.0.0.1:${await freePort()}`;
  site = await makeSite(dir, { laser: false, unlockSeconds: 60 });
  broker = (await startServe(site, { mqtt: 0, http: 0 })).mqtt;
}, 120_000);
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('start: outputs safe before anything else', () => {
  const original = Object.getOwnPropertyDescriptor(SimOutput.prototype, 'write')!;
  let running: Agent | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    Object.defineProperty(SimOutput.prototype, 'write', original);
  });

  async function startOrder(lock: 'fail_secure' | 'fail_safe'): Promise<{ events: string[]; agent: Agent }> {
    const events: string[] = [];
    // Every write any sim output receives, in order with the start steps (even one that changes nothing).
    const write = original.value as (this: SimOutput, on: boolean) => void;
    Object.defineProperty(SimOutput.prototype, 'write', { ...original, value(this: SimOutput, on: boolean) {
      events.push(`write ${this.name} ${on}`);
      write.call(this, on);
    } });
    const config = join(dir, `order-${lock}.json`);
    writeEdgeConfig(config, { data: site.door.data, broker: deadBroker, extra: {
      devices: { reader: { driver: 'sim' }, relay: { driver: 'sim', activeLow: true }, doorSensor: { driver: 'sim' }, greenLed: { driver: 'sim' }, redLed: { driver: 'sim' }, buzzer: { driver: 'sim' } },
      door: { lock },
    } });
    const agent = new Agent({
      config: loadConfig(config), log: createLogger({ level: 'silent' }),
      trace: (step) => {
        if (step === 'devices-open') {
          // What each output holds as it comes out of its driver, before the agent does anything else.
          for (const [role, d] of Object.entries(agent.devices!)) {
            const line = d instanceof SimOutput ? d : (d as { line?: unknown }).line;
            if (line instanceof SimOutput) events.push(`opened ${role} ${line.value} level ${line.level}`);
          }
        }
        events.push(step);
      },
    });
    running = agent;
    await agent.start(); // a failed start stops what it started
    return { events, agent };
  }

  // The outputs as their drivers open them: off (the active-low relay's line held high), nothing written yet.
  const OPENED = ['opened relay false level true', 'opened greenLed false level false', 'opened redLed false level false', 'opened buzzer false level false'];

  test('fail_secure: every output opens off (an active-low relay held high), then the replica, the controller, the panel, the network', async () => {
    const { events } = await startOrder('fail_secure');
    expect(events).toEqual([
      ...OPENED, 'devices-open', 'ledger-open',
      // The controller's safe state: the strike's relay off, LEDs and buzzer off; nothing energised.
      'write relay false', 'write greenLed false', 'write redLed false', 'write buzzer false', 'controller-safe',
      'panel', 'network',
    ]);
  });

  test('fail_safe: the maglock is energised (locked) right after the replica opens, before the panel and the network', async () => {
    const { events, agent } = await startOrder('fail_safe');
    expect(events).toEqual([
      ...OPENED, 'devices-open', 'ledger-open',
      'write relay true', 'write greenLed false', 'write redLed false', 'write buzzer false', 'controller-safe',
      'panel', 'network',
    ]);
    expect((agent.devices!.relay as SimOutput).level).toBe(false); // energised: the active-low line pulled low
  });
});

describe('exit paths leave the relay safe', () => {
  // A test that fails leaves no agent holding the data folder for the next.
  const afterThis: ChildProcess[] = [];
  afterEach(async () => {
    for (const p of afterThis.splice(0)) {
      p.kill('SIGKILL');
      await exited(p);
    }
  });
  /** The fixture with a fail_secure door (relay on = unlocked); resolves once the door is unlocked by a tap. */
  async function unlockedChild(name: string, env: NodeJS.ProcessEnv = {}) {
    const config = join(dir, `${name}.json`);
    const out = join(dir, `${name}.outputs`);
    writeEdgeConfig(config, { data: site.door.data, broker });
    const p = start(process.execPath, [CHILD, config, out], { env });
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    await eventually('the fixture agent started', () => (lines().includes('started') ? true : undefined), 20_000);
    expect(lines()[0]).toBe('relay false'); // as it opened
    const rec = JSON.parse(readFileSync(join(site.door.data, 'agent.json'), 'utf8')) as { panel: string };
    const panel = new Panel(rec.panel);
    await eventually('the rules from the coordinator', async () => ((await panel.status()).rulesFreshAt !== null ? true : undefined), 20_000);
    const res = await panel.tap({ card: CARDS[0]!.name });
    return { p, lines, res };
  }
  const lastRelay = (lines: string[]) => lines.filter((l) => l.startsWith('relay ')).at(-1);

  test('SIGTERM while unlocked: the relay ends off and the process exits 0', async () => {
    const { p, lines, res } = await unlockedChild('sigterm');
    afterThis.push(p);
    expect(res.ok).toBe(true);
    expect(lastRelay(lines())).toBe('relay true');
    p.kill('SIGTERM');
    expect(await exited(p)).toEqual({ code: 0, signal: null });
    expect(lastRelay(lines())).toBe('relay false');
    expect(p.output()).toMatch(/"ev":"signal","signal":"SIGTERM"/);
  });

  test('an error thrown from a timer while unlocked: the relay ends off, the fatal line is logged, the exit status is 1', async () => {
    const { p, lines } = await unlockedChild('uncaught', { EDGE_FIXTURE_THROW: '1' });
    afterThis.push(p);
    expect(await exited(p)).toEqual({ code: 1, signal: null });
    const relay = lines().filter((l) => l.startsWith('relay '));
    expect(relay).toContain('relay true');
    expect(relay.at(-1)).toBe('relay false');
    const fatal = p.output().split('\n').find((l) => l.includes('"ev":"fatal"'));
    expect(fatal).toBeDefined();
    expect(JSON.parse(fatal!)).toMatchObject({ level: 60, ev: 'fatal', err: expect.stringContaining('thrown from a timer while the door is unlocked') });
  });

  // gpioset with --interactive drives the line low, then lets go; Debian's build (no
  // --interactive) ends the holding gpioset and the line is released to its pull resistor
  // (drivers/gpio/gpiod-output.ts, hardware/). Either way nobody holds it high after the exit.
  test.each([
    { build: 'gpioset --interactive', interactive: true },
    { build: "Debian's gpioset", interactive: false },
  ])('keymesh-edge run on gpiod (fake libgpiod v2 tools, $build, a Pi 5): SIGTERM while unlocked leaves the relay line low', async ({ interactive }) => {
    const gpio = fakeGpioTools({ version: '2', interactive, chips: PI5_CHIPS });
    try {
      const node = { ...site.door, config: join(dir, `gpiod-${interactive}.json`) };
      writeEdgeConfig(node.config, { data: site.door.data, broker, extra: {
        devices: { reader: { driver: 'sim' }, relay: { driver: 'gpiod', pin: 17, chipLabel: 'pinctrl-rp1' } },
      } });
      const edge = await startEdge(node, gpio.env);
      afterThis.push(edge.process);
      await eventually('the rules from the coordinator', async () => ((await edge.panel.status()).rulesFreshAt !== null ? true : undefined), 20_000);
      expect(gpio.levels('gpiochip4', 17)[0]).toBe(false); // requested at its safe level
      expect((await edge.panel.tap({ card: CARDS[0]!.name })).ok).toBe(true);
      await eventually('the relay line high (unlocked)', () => (gpio.level('gpiochip4', 17) ? true : undefined));
      edge.process.kill('SIGTERM');
      expect(await exited(edge.process)).toEqual({ code: 0, signal: null });
      expect(gpio.state.holder(lineKey('gpiochip4', 17))).toBeUndefined();
      expect(gpio.level('gpiochip4', 17)).toBe(false);
      if (interactive) expect(gpio.levels('gpiochip4', 17).at(-1)).toBe(false);
    } finally {
      gpio.remove();
    }
  });
});
