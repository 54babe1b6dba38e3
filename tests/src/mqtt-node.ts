/**
 * An "mqtt.js node" for the system tests while the edge agent does not exist: the ledger's
 * PubSubSync over MqttJsBus on a real MQTT.js client, with its own ledger file seeded from a
 * provisioning file's genesis and its coordinator(s) as upstream, as the edge will run it. It
 * logs in with a login token (embedded broker) or the file's username/password (Mosquitto),
 * and leaves an unsigned offline status as its Last Will.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Ledger, MqttJsBus, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { fromHex, keyPairFromSeed, makeLoginToken, topics, type KeyPair, type NodeStatus, type ProvisioningFile } from '@keymesh/protocol';

export interface MqttNode {
  key: KeyPair;
  ledger: Ledger;
  sync: PubSubSync;
  client: MqttClient;
  /** Appends `n` access decisions for `resource` to its feed and publishes them. */
  decide(resource: string, n: number, member?: string): void;
  /** Cuts the TCP connection without a DISCONNECT: the broker publishes the Last Will. */
  drop(): void;
  close(): Promise<void>;
}

/** The Last Will: unsigned by design (the node is gone when it is sent), so it can only say "offline". */
export function offlineWill(node: string): NodeStatus {
  return { node, online: false, versions: {}, head: 0, acked: null, rulesFreshAt: null, rulesAgeMs: null, syncLag: 0, heldForNewerVersion: 0, at: Date.now() };
}

export async function startMqttNode(o: {
  prov: ProvisioningFile;
  /** The broker's URL (default: the provisioning file's). */
  url?: string;
  /** Where its ledger file goes. */
  dir: string;
  /** Its key (default: the provisioning file's seed). */
  key?: KeyPair;
  /** Coordinators it takes haves from (default: the file's). */
  upstream?: readonly string[];
  intervalMs?: number;
  clientId?: string;
}): Promise<MqttNode> {
  const key = o.key ?? keyPairFromSeed(fromHex(o.prov.node.seed!));
  const site = o.prov.site;
  const ledger = Ledger.open(join(o.dir, `${key.publicKey.slice(0, 12)}.sqlite`), { site });
  if (ledger.count() === 0) ledger.ingest([o.prov.genesis]);
  const clientId = o.clientId ?? `node-${key.publicKey.slice(0, 16)}`;
  const login = o.prov.broker.username !== undefined
    ? { username: o.prov.broker.username, password: o.prov.broker.password! }
    : makeLoginToken({ clientId, site }, key);
  const t = topics(site);
  let client: MqttClient;
  try {
    // A login token is good once: no automatic reconnection with a spent one.
    client = await mqtt.connectAsync(o.url ?? o.prov.broker.url, {
      clientId, ...login, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000,
      will: { topic: t.status(key.publicKey), payload: Buffer.from(JSON.stringify(offlineWill(key.publicKey))), qos: 1, retain: true },
    });
  } catch (err) {
    ledger.close();
    throw err;
  }
  const sync = new PubSubSync({ bus: new MqttJsBus(client), store: ledgerSyncStore(ledger), site, key, upstream: o.upstream ?? o.prov.coordinators, intervalMs: o.intervalMs ?? 250, versions: { test: '1' } });
  await sync.start();
  let closed = false;
  return {
    key, ledger, sync, client,
    decide(resource, n, member = 'ada') {
      const at = Date.now();
      const items = Array.from({ length: n }, (_, i) => ({
        type: 'access.decision' as const,
        body: { resource, credential: { kind: 'card' as const, card: (i % 256).toString(16).padStart(2, '0').repeat(16) }, allow: i % 2 === 0, reason: i % 2 === 0 ? 'ALLOWED' as const : 'UNKNOWN_CARD' as const, member: i % 2 === 0 ? member : null, at: at - n + i },
      }));
      sync.publishEntries(ledger.appendMany(key, items).map((x) => x.entry));
    },
    drop() {
      client.stream.destroy();
    },
    async close() {
      if (closed) return;
      closed = true;
      await sync.stop().catch(() => undefined);
      await client.endAsync(true).catch(() => undefined);
      ledger.close();
    },
  };
}
