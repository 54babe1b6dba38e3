/**
 * aedes's authorizePublish / authorizeSubscribe / authorizeForward over acl.ts, for clients
 * that logged in (authenticate.ts put their principal in `clients`).
 *
 * - A refused publish closes the client's connection: MQTT 3.1.1 lets a broker either
 *   acknowledge and drop or disconnect (MQTT-3.3.5-2), and aedes disconnects; either way the
 *   message reaches nobody. A publish over the client's rate (rate-limit.ts) is refused so too.
 * - A refused subscription is granted 0x80 (failure) in the SUBACK; the client stays.
 * - A message is delivered to a client only if its rule would let it subscribe to that very
 *   topic (another node's command or batch never reaches it, whatever filter it holds).
 */
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Principal, SiteAcl } from './acl.js';
import type { TokenBucket } from './rate-limit.js';

export interface ClientState {
  principal: Principal;
  bucket: TokenBucket;
  rateLogged: boolean;
  /** The filters granted and not unsubscribed (at most MAX_SUBSCRIPTIONS_PER_CLIENT). */
  filters: Set<string>;
}

/**
 * Filters one connection may hold. A node's sync and blob transfers hold about a dozen, the
 * dashboard a few more; without a bound, an enrolled client could subscribe to millions of
 * distinct allowed filters (feed/<any key>…) and grow the broker's subscription tree without end.
 */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 256;

export interface AuthorizeCounters {
  publishesRefused: number;
  subscribesRefused: number;
  rateLimited: number;
}

export interface AuthorizeContext {
  acl: SiteAcl;
  clients: WeakMap<Client, ClientState>;
  counters: AuthorizeCounters;
  log: Logger;
  now: () => number;
}

function refused(message: string): Error {
  return new Error(message);
}

export function authorizeHooks(c: AuthorizeContext) {
  return {
    authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
      // client is null only for a will left by another broker instance: none here.
      const st = client ? c.clients.get(client) : undefined;
      if (!client || !st) return done(refused('publish from a client that did not log in'));
      if (!st.bucket.take(c.now())) {
        c.counters.rateLimited++;
        if (!st.rateLogged) {
          st.rateLogged = true;
          c.log.warn({ ev: 'mqtt-rate-limited', clientId: client.id, key: st.principal.key }, 'client over its message rate: disconnected');
        }
        return done(refused('over the message rate'));
      }
      const d = c.acl.publish(st.principal, packet.topic, packet.retain === true);
      if (!d.ok) {
        c.counters.publishesRefused++;
        c.log.warn({ ev: 'mqtt-publish-refused', clientId: client.id, key: st.principal.key, kind: st.principal.kind, topic: packet.topic.slice(0, 256), retain: packet.retain === true, reason: d.reason }, 'publish refused: client disconnected');
        return done(refused(d.reason));
      }
      done(null);
    },

    authorizeSubscribe(client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void {
      const st = c.clients.get(client);
      let d = st ? c.acl.subscribe(st.principal, sub.topic) : { ok: false as const, reason: 'not logged in' };
      if (d.ok && st && !st.filters.has(sub.topic) && st.filters.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
        d = { ok: false, reason: `this connection already holds ${MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions; unsubscribe some, or subscribe with a + filter` };
      }
      if (!d.ok) {
        c.counters.subscribesRefused++;
        c.log.warn({ ev: 'mqtt-subscribe-refused', clientId: client.id, key: st?.principal.key, topic: sub.topic.slice(0, 256), reason: d.reason }, 'subscription refused');
        return done(null, null);
      }
      st!.filters.add(sub.topic);
      done(null, sub);
    },

    authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
      const st = c.clients.get(client);
      return st && c.acl.forward(st.principal, packet.topic).ok ? packet : null;
    },
  };
}
