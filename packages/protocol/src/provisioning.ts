/**
 * The provisioning file `keymesh node enrol` writes for an edge (mode 0600) and
 * `keymesh-edge enrol` reads: which site to trust, which broker to reach, whose signed heads to
 * believe, and the site card key (DESIGN §3: handed to each enrolled edge, never published).
 * The node makes its own key on the Pi; the file names the public key it was enrolled under
 * only when the operator made the key beforehand.
 */
import { z } from 'zod';
import { SiteCardKey } from './card-ref.js';
import { HashHex, PublicKeyHex, ResourceId } from './schemas/common.js';

export const NODE_KINDS = ['door', 'machine'] as const;

export const BrokerAddress = z.strictObject({
  /** mqtt://host:port, mqtts://…, ws://…/mqtt */
  url: z.string().min(1).max(500).regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  /** Present for an external broker (Mosquitto password file); the embedded broker takes login tokens. */
  username: z.string().min(1).max(200).optional(),
  password: z.string().min(1).max(500).optional(),
});
export type BrokerAddress = z.infer<typeof BrokerAddress>;

export const ProvisioningFile = z.strictObject({
  keymesh: z.literal('provisioning'),
  v: z.literal(1),
  site: HashHex,
  siteName: z.string().min(1).max(100),
  /** The genesis entry's canonical line, so the edge holds its root of trust before any sync. */
  genesis: z.string().min(1).max(65_536),
  broker: BrokerAddress,
  /** Coordinators whose signed heads and haves this node believes (DESIGN §6). */
  coordinators: z.array(PublicKeyHex).min(1).max(16),
  cardKey: SiteCardKey,
  node: z.strictObject({
    name: z.string().min(1).max(100),
    kind: z.enum(NODE_KINDS),
    resource: ResourceId,
    /** The key enrolled, when the operator made it beforehand (`--key`); else the edge makes one and an admin enrols it. */
    key: PublicKeyHex.optional(),
    /** The key file's seed for a key made by `node enrol` (hex); moved into the edge's data folder by `keymesh-edge enrol`. */
    seed: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
  created: z.number().int().nonnegative(),
});
export type ProvisioningFile = z.infer<typeof ProvisioningFile>;
