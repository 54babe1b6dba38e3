/**
 * The MQTT login of the embedded broker (DESIGN §3): the username is the client's public key
 * (hex) and the password a token, an ed25519 signature under the MQTT domain over the client
 * id, the broker's site and a time stamp. The broker accepts it within ±5 min of its own clock,
 * once (a replay cache for the window, and nothing made before the broker started), and only
 * from enrolled, unretired nodes and current admins (`mayConnect`).
 */
import { z } from 'zod';
import { fromUtf8 } from './bytes.js';
import { canonicalString } from './canonical.js';
import { SIGNING_DOMAINS, signDomain, verifyDomain } from './crypto/domains.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { isCurrentAdmin, type AdminSource } from './command.js';
import { describeZodError } from './entry.js';
import { ProtocolError } from './errors.js';
import type { KeyPair } from './keys.js';
import { ReplayCache } from './replay-cache.js';
import { HashHex, Millis, PublicKeyHex, SignatureHex } from './schemas/common.js';
import type { NodeValue } from './policy/values.js';

/** How far a token's time may be from the broker's clock, either way. */
export const LOGIN_WINDOW_MS = 5 * 60_000;
const MAX_PASSWORD_BYTES = 512;
/** Logins one key may make in a window (a client reconnecting every second makes 300). */
export const MAX_LOGINS_PER_KEY = 600;

/**
 * The broker's replay cache for login tokens: large, with each key's share bounded, so one
 * enrolled key making tokens in a loop is refused itself and nobody else is.
 */
export function loginReplayCache(capacity = 65_536): ReplayCache {
  return new ReplayCache(capacity, Math.min(capacity, MAX_LOGINS_PER_KEY));
}

/** MQTT client ids: printable ASCII, no spaces (what the nodes and the dashboard use). */
export const MqttClientId = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'must be 1-128 printable ASCII characters without spaces');

/** The password's content: when it was made, and the signature. */
export const LoginToken = z.strictObject({ ts: Millis, sig: SignatureHex });
export type LoginToken = z.infer<typeof LoginToken>;

/** What the token signs. */
export const LoginClaim = z.strictObject({ clientId: MqttClientId, site: HashHex, ts: Millis });

export const LOGIN_REFUSALS = {
  SCHEMA: 'the username is not a public key, or the password is not a login token',
  BAD_SIGNATURE: 'the login token does not verify for this username, client id and site',
  EXPIRED: 'the login token is more than 5 minutes old; make a new one (check this client\'s clock)',
  NOT_YET_VALID: 'the login token is more than 5 minutes ahead of the broker\'s clock; check this client\'s clock',
  REPLAYED: 'this login token was already used; make a new one for each connection',
  BEFORE_START: 'the login token was made before the broker started, so it may have been used already; make a new one for each connection (check this client\'s clock)',
  REPLAY_CACHE_FULL: 'too many logins in the last minutes (by this key, or by all); try again shortly',
  NOT_ALLOWED: 'this key is neither an enrolled, unretired node nor a current admin of this site',
} as const;
export type LoginRefusal = keyof typeof LOGIN_REFUSALS;
export type LoginVerdict = { ok: true; key: string; ts: number } | { ok: false; code: LoginRefusal; reason: string };

/** The username and password for client `clientId` to log in to site `site`'s broker. Throws SCHEMA for a bad client id or site. */
export function makeLoginToken(claim: { clientId: string; site: string; now?: number }, key: KeyPair, crypto: CryptoProvider = defaultCrypto): { username: string; password: string } {
  const parsed = LoginClaim.safeParse({ clientId: claim.clientId, site: claim.site, ts: claim.now ?? Date.now() });
  if (!parsed.success) throw new ProtocolError('SCHEMA', `login claim: ${describeZodError(parsed.error)}`);
  const signed = parsed.data;
  const token: LoginToken = { ts: signed.ts, sig: signDomain(SIGNING_DOMAINS.mqtt, signed, key, crypto) };
  return { username: key.publicKey, password: canonicalString(token) };
}

/** Who may connect: a current admin, or an enrolled node that is not retired. */
export function mayConnect(state: AdminSource & { node(key: string): NodeValue | undefined }, key: string): boolean {
  if (isCurrentAdmin(state, key)) return true;
  const n = state.node(key);
  return !!n && !n.retired;
}

export interface LoginContext {
  clientId: string;
  /** The broker's site. */
  site: string;
  /** The broker's clock (ms). */
  now: number;
  /** Tokens seen in the window (loginReplayCache()); a token that passes is recorded here. */
  seen: ReplayCache;
  /**
   * When `seen` started empty (the broker's start, on its clock): tokens made before then are
   * refused, since a restarted broker cannot know which of them were used (plain MQTT on a LAN
   * shows passwords to whoever listens). Clients make a fresh token for every connection.
   */
  startedAt: number;
  /** Is this key a current admin or an enrolled, unretired node (mayConnect(state, key))? Required: without it any key would get in. */
  mayConnect: (key: string) => boolean;
  crypto?: CryptoProvider;
}

function refuse(code: LoginRefusal, detail = ''): LoginVerdict {
  return { ok: false, code, reason: detail ? `${LOGIN_REFUSALS[code]} (${detail})` : LOGIN_REFUSALS[code] };
}

/** The broker's check of a CONNECT's username and password (both hostile). */
export function verifyLoginToken(username: unknown, password: unknown, ctx: LoginContext): LoginVerdict {
  const user = PublicKeyHex.safeParse(username);
  if (!user.success) return refuse('SCHEMA', 'username: ' + describeZodError(user.error));
  let text: string;
  if (typeof password === 'string') text = password;
  else if (password instanceof Uint8Array && password.length <= MAX_PASSWORD_BYTES) {
    try {
      text = fromUtf8(password);
    } catch {
      return refuse('SCHEMA', 'password is not UTF-8');
    }
  } else return refuse('SCHEMA', 'password missing or too long');
  if (text.length > MAX_PASSWORD_BYTES) return refuse('SCHEMA', 'password too long');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse('SCHEMA', 'password is not JSON');
  }
  const token = LoginToken.safeParse(json);
  if (!token.success) return refuse('SCHEMA', 'password: ' + describeZodError(token.error));
  const claim = LoginClaim.safeParse({ clientId: ctx.clientId, site: ctx.site, ts: token.data.ts });
  if (!claim.success) return refuse('SCHEMA', describeZodError(claim.error));
  if (!verifyDomain(SIGNING_DOMAINS.mqtt, claim.data, token.data.sig, user.data, ctx.crypto ?? defaultCrypto)) return refuse('BAD_SIGNATURE');
  const ts = token.data.ts;
  const now = ctx.now;
  if (ts < now - LOGIN_WINDOW_MS) return refuse('EXPIRED');
  if (ts > now + LOGIN_WINDOW_MS) return refuse('NOT_YET_VALID');
  if (!(ts >= ctx.startedAt)) return refuse('BEFORE_START', `made ${ctx.startedAt - ts} ms before the broker started`);
  if (typeof ctx.mayConnect !== 'function' || !ctx.mayConnect(user.data)) return refuse('NOT_ALLOWED');
  const seen = ctx.seen.check(token.data.sig, ts + LOGIN_WINDOW_MS, now, user.data);
  if (seen === 'replayed') return refuse('REPLAYED');
  if (seen === 'full') return refuse('REPLAY_CACHE_FULL');
  return { ok: true, key: user.data, ts };
}
