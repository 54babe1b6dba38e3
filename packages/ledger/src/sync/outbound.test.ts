// Outbound hands sync's text to a bus that takes text (publishText: MQTT.js writes the string to
// its socket, no Buffer outside V8's heap to wait for a full GC) and UTF-8 bytes to one that
// does not; either way a subscriber gets the same bytes, multi-byte characters included.
import { afterEach, expect, test } from '@jest/globals';
import { startAedes, type AedesHandle } from '@keymesh/testkit/aedes-broker';
import type { Bus, PublishOptions } from '../bus/bus.js';
import { MqttJsBus } from '../bus/mqttjs.js';
import { Outbound } from './outbound.js';

const open: AedesHandle[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

// 2-, 3- and 4-byte UTF-8 characters: a length counted in characters would cut the packet short.
const TEXT = `{"kind":"batch","node":"é"}\n${'ünïcödé ✓ 🔑 '.repeat(2000)}`;
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('over MQTT.js the text goes as a string, and the subscriber gets its exact UTF-8 bytes', async () => {
  const broker = await startAedes();
  open.push(broker);
  const bus = new MqttJsBus(await broker.connect('edge'));
  bus.publish = () => Promise.reject(new Error('Outbound used publish, not publishText')); // the bytes path is not taken
  const got: Uint8Array[] = [];
  const sub = new MqttJsBus(await broker.connect('peer'));
  await sub.subscribe('s/#', (m) => got.push(m.payload));
  let failed = 0;
  const drained: string[] = [];
  const out = new Outbound(bus, 8, 5000, () => failed++, (peer) => drained.push(peer));
  out.send('peer', 's/batch', TEXT);
  out.publish('s/have', 'héllo');
  expect(out.congested('peer')).toBe(false);
  expect(out.busy).toBe(true);
  await until(() => got.length === 2 && drained.length === 1);
  expect(failed).toBe(0);
  expect(drained).toEqual(['peer']);
  expect(out.busy).toBe(false);
  const texts = got.map((p) => Buffer.from(p).toString('utf8')).sort();
  expect(texts).toEqual([TEXT, 'héllo'].sort());
  expect(got.map((p) => p.byteLength).sort((a, b) => a - b)).toEqual([Buffer.byteLength('héllo'), Buffer.byteLength(TEXT)]);
});

test('a bus without publishText gets the UTF-8 bytes, with the options sync gives', async () => {
  const calls: Array<{ topic: string; payload: Uint8Array; opts?: PublishOptions }> = [];
  const bus: Bus = {
    connected: true,
    publish: async (topic, payload, opts) => void calls.push({ topic, payload, opts }),
    subscribe: async () => {},
    unsubscribe: async () => {},
    onConnection: () => () => {},
  };
  const drained: string[] = [];
  const out = new Outbound(bus, 1, 5000, () => {}, (peer) => drained.push(peer));
  out.send('peer', 's/batch', TEXT);
  expect(out.congested('peer')).toBe(true); // a window of 1 batch
  out.publish('s/status', 'ünï', true);
  await until(() => drained.length === 1);
  expect(calls.map((c) => [c.topic, Buffer.from(c.payload).toString('utf8'), c.opts])).toEqual([
    ['s/batch', TEXT, { qos: 1 }],
    ['s/status', 'ünï', { qos: 1, retain: true }],
  ]);
  expect(out.congested('peer')).toBe(false);
});
