/**
 * `keymesh node enrol`: an admin-signed `node.enrol` for a door or machine node and the
 * provisioning file its edge agent starts from (protocol provisioning.ts), mode 0600. The node's
 * key is made here unless the operator passes the one the Pi made (`--key`); a key made here
 * travels in the provisioning file only, never stays on the coordinator: the file is a secret
 * to carry to the Pi and delete. With an external broker the file also carries the node's
 * broker password (derived, so `keymesh broker mosquitto-conf` writes the same one).
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { generateKeyPair, ProvisioningFile, toHex, type BodyOf, type ProvisioningFile as Provisioning } from '@keymesh/protocol';
import { readCardKey, readNodeKey, type DataPaths, type SiteRecord } from './data-dir.js';
import { CoordinatorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { brokerPassword, readOrCreateBrokerSecret } from './broker-credentials.js';
import type { AdminTarget } from './admin/target.js';

export interface EnrolRequest {
  name: string;
  kind: 'door' | 'machine';
  resource: string;
  /** The public key the Pi made; else one is made here. */
  key?: string;
  /** The key this node replaces (a re-imaged or restored Pi: DESIGN §10). */
  replaces?: string;
  /** The broker address the node connects to. */
  brokerUrl: string;
  /** The broker is an external one: the file carries the node's broker password. */
  external: boolean;
  out: string;
}

export interface EnrolPlan {
  body: BodyOf<'node.enrol'>;
  file: Provisioning;
  out: string;
}

/** The default broker address: this host's name and the running server's MQTT port (else 1883). */
export function defaultBrokerUrl(mqtt: string | null | undefined): string {
  const port = mqtt ? new URL(mqtt).port || '1883' : '1883';
  return `mqtt://${hostname()}:${port}`;
}

/** Checks the request against what the target holds and builds the entry body and the file (nothing written yet). */
export async function planEnrol(req: EnrolRequest, paths: DataPaths, site: SiteRecord, target: AdminTarget, now = Date.now()): Promise<EnrolPlan> {
  if (!(await target.policy(`resource/${req.resource}`))) {
    throw new CoordinatorError('NOT_FOUND', `resource "${req.resource}" does not exist at ${target.where}; add it first with \`keymesh resource add ${req.resource} --name "…" --kind ${req.kind}\`.`, { resource: req.resource });
  }
  const made = req.key ? null : generateKeyPair();
  const nodeKey = req.key ?? made!.publicKey;
  if ((await target.policy(`node/${nodeKey}`))) throw new CoordinatorError('BAD_REQUEST', `key ${nodeKey.slice(0, 12)}… is already enrolled; a Pi with a new key gets a new enrolment (--replaces OLD_KEY links them).`);
  let replaces: BodyOf<'node.enrol'>['replaces'];
  if (req.replaces) {
    if (!(await target.policy(`node/${req.replaces}`))) throw new CoordinatorError('NOT_FOUND', `--replaces ${req.replaces.slice(0, 12)}… is not an enrolled node of this site; check the key (keymesh status lists the nodes).`);
    // The old feed counts up to its head as held here, never more (DESIGN §10).
    replaces = { node: req.replaces, lastSeq: (await target.head(req.replaces))?.seq ?? 0 };
  }
  const body: BodyOf<'node.enrol'> = { node: nodeKey, name: req.name, role: 'edge', resources: [req.resource], ...(replaces ? { replaces } : {}) };
  const broker = req.external
    ? { url: req.brokerUrl, username: nodeKey, password: brokerPassword(readOrCreateBrokerSecret(paths.dir), nodeKey) }
    : { url: req.brokerUrl };
  const file = ProvisioningFile.parse({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: site.name, genesis: site.genesis, broker,
    coordinators: [readNodeKey(paths).publicKey], cardKey: readCardKey(paths.cardKey),
    node: { name: req.name, kind: req.kind, resource: req.resource, key: nodeKey, ...(made ? { seed: toHex(made.seed) } : {}) },
    created: now,
  });
  return { body, file, out: resolve(req.out) };
}

/** Writes the provisioning file (mode 0600; never over an existing one). */
export function writeProvisioning(plan: EnrolPlan): void {
  writeFileAtomic(plan.out, JSON.stringify(plan.file, null, 2) + '\n', { mode: 0o600 });
}
