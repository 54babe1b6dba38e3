/**
 * `keymesh-edge enrol PROVISIONING_FILE`: makes the data folder from the file `keymesh node enrol`
 * wrote (DESIGN §3): the site to trust (its genesis, checked against the site id), the broker,
 * the coordinators whose signed heads to believe, the site card key. The node's key comes from
 * the file when the operator made it there, else it is made here and printed, for an admin to
 * enrol (`keymesh node enrol … --node-key KEY`). The ledger is seeded with the genesis so the
 * node holds its root of trust before any sync; it never needs the network to start.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { Ledger, writeKeyFile } from '@keymesh/ledger';
import { ProvisioningFile, decodeEntry, describeZodError, entryHash, fromHex, generateKeyPair, keyPairFromSeed, type KeyPair } from '@keymesh/protocol';
import { edgePaths, writeEnrolment, type EdgePaths, type Enrolment } from './data-dir.js';
import { EdgeError } from './errors.js';
import { NotSmallFile, readSmallFile } from './small-file.js';

export const MAX_PROVISIONING_BYTES = 128 * 1024;

export function readProvisioningFile(path: string): ProvisioningFile {
  let text: string;
  try {
    text = readSmallFile(path, MAX_PROVISIONING_BYTES);
  } catch (err) {
    if (err instanceof NotSmallFile && err.why === 'too_large') throw new EdgeError('BAD_PROVISIONING', `${path} is larger than a provisioning file can be (${MAX_PROVISIONING_BYTES} bytes): check you gave the file \`keymesh node enrol\` wrote.`, { path });
    if (err instanceof NotSmallFile) throw new EdgeError('BAD_PROVISIONING', `${err.message}: give the path of the file \`keymesh node enrol\` wrote, copied onto this machine.`, { path });
    throw new EdgeError('BAD_PROVISIONING', `${path} cannot be read: ${(err as Error).message}. Copy the file \`keymesh node enrol\` wrote onto this machine and give its path.`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EdgeError('BAD_PROVISIONING', `${path} is not JSON (${(err as Error).message}): it may have been cut or edited; make it again with \`keymesh node enrol\`.`, { path });
  }
  const r = ProvisioningFile.safeParse(json);
  if (!r.success) throw new EdgeError('BAD_PROVISIONING', `${path} is not a provisioning file: ${describeZodError(r.error)}. Make it again with \`keymesh node enrol\`.`, { path });
  const prov = r.data;
  // The site id is the genesis hash: a file whose genesis does not hash to it names another site's root of trust.
  let genesisHash: string;
  try {
    genesisHash = entryHash(decodeEntry(prov.genesis));
  } catch (err) {
    throw new EdgeError('BAD_PROVISIONING', `${path}: its genesis entry is not valid (${(err as Error).message}); make the file again with \`keymesh node enrol\`.`, { path });
  }
  if (genesisHash !== prov.site) throw new EdgeError('BAD_PROVISIONING', `${path}: its genesis does not hash to its site id, so it cannot be trusted; make the file again with \`keymesh node enrol\`.`, { path });
  return prov;
}

export interface EnrolResult {
  paths: EdgePaths;
  enrolment: Enrolment;
  key: KeyPair;
  /** The key was made here: an admin must enrol it before the node decides anything. */
  keyMadeHere: boolean;
}

export function enrol(provisioningPath: string, dataDir: string, now = Date.now()): EnrolResult {
  const prov = readProvisioningFile(provisioningPath);
  const paths = edgePaths(dataDir);
  if (existsSync(paths.enrolment) || existsSync(paths.nodeKey)) {
    throw new EdgeError('ALREADY_ENROLLED', `${paths.dir} is already enrolled: a node keeps one key for its life. To re-image this node, enrol it into a new, empty folder with a new key (\`keymesh node enrol … --replaces OLD_KEY\`), then remove the old folder.`, { path: paths.dir });
  }
  const keyMadeHere = prov.node.seed === undefined;
  const key = keyMadeHere ? generateKeyPair() : keyPairFromSeed(fromHex(prov.node.seed!));
  if (prov.node.key !== undefined && prov.node.key !== key.publicKey) {
    throw new EdgeError('BAD_PROVISIONING', `${provisioningPath} names node key ${prov.node.key.slice(0, 16)}… but its seed makes another key: make the file again with \`keymesh node enrol\`.`, { path: provisioningPath });
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  const enrolment: Enrolment = {
    keymesh: 'edge-enrolment', v: 1,
    site: prov.site, siteName: prov.siteName, genesis: prov.genesis, broker: prov.broker,
    coordinators: prov.coordinators, cardKey: prov.cardKey,
    node: { name: prov.node.name, kind: prov.node.kind, resource: prov.node.resource },
    enrolled: now,
  };
  writeKeyFile(paths.nodeKey, key, `keymesh edge ${prov.node.name}`, now);
  writeEnrolment(paths, enrolment);
  const ledger = Ledger.open(paths.ledger, { site: prov.site });
  try {
    if (ledger.count() === 0) ledger.ingest([prov.genesis]);
  } finally {
    ledger.close();
  }
  return { paths, enrolment, key, keyMadeHere };
}
