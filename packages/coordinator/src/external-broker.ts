/**
 * `keymesh serve --broker URL`: the coordinator as a client of an existing broker (Mosquitto,
 * EMQX; DESIGN §11). That broker authenticates (the password file and ACL `keymesh broker
 * mosquitto-conf` generates); the coordinator logs in with its public key and its derived
 * password, and the ledger's checks stay the same. The first connection must succeed within
 * the timeout, so a wrong URL or password is reported at once; after that MQTT.js reconnects.
 */
import mqtt from 'mqtt';
import { MqttJsBus, type Bus } from '@keymesh/ledger';
import type { KeyPair } from '@keymesh/protocol';
import { brokerPassword, readOrCreateBrokerSecret } from './broker-credentials.js';
import { CoordinatorError } from './errors.js';
import type { Logger } from './log.js';

export async function connectExternal(o: { url: string; clientId: string; key: KeyPair; dataDir: string; site: string; log: Logger; timeoutMs?: number }): Promise<{ bus: Bus; close: () => Promise<void> }> {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new CoordinatorError('BAD_CONFIG', `--broker "${o.url}" is not a URL; give one such as mqtt://broker.local:1883.`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) throw new CoordinatorError('BAD_CONFIG', `--broker "${o.url}": the scheme must be mqtt, mqtts, ws or wss.`);
  const password = brokerPassword(readOrCreateBrokerSecret(o.dataDir), o.key.publicKey);
  const client = mqtt.connect(o.url, { clientId: o.clientId, username: o.key.publicKey, password, protocolVersion: 4, reconnectPeriod: 1000, connectTimeout: o.timeoutMs ?? 10_000, clean: true });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      client.end(true);
      reject(new CoordinatorError('BROKER_UNREACHABLE', `${o.url}: ${why}. Check the URL, that the broker runs, and that its password file holds this coordinator (regenerate it with \`keymesh broker mosquitto-conf\`).`));
    };
    const t = setTimeout(() => fail('no answer in time'), o.timeoutMs ?? 10_000);
    client.once('connect', () => (clearTimeout(t), resolve()));
    client.once('error', (err: unknown) => (clearTimeout(t), fail((err as Error).message)));
  });
  client.on('error', (err) => o.log.warn({ ev: 'broker-error', err: err.message }, 'external broker error'));
  client.on('offline', () => o.log.warn({ ev: 'broker-offline' }, 'external broker unreachable; reconnecting'));
  const bus = new MqttJsBus(client, (err) => o.log.warn({ ev: 'bus-error', err: (err as Error).message }, 'bus error'));
  return { bus, close: () => new Promise<void>((r) => client.end(false, {}, () => r())) };
}
