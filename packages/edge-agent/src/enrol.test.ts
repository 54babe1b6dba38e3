// `keymesh-edge enrol`: a data folder from a provisioning file, or a clear refusal that writes nothing.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '@keymesh/ledger';
import { encodeEntry, toHex, type ProvisioningFile } from '@keymesh/protocol';
import { TestSite, TEST_CARD_KEY, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { enrol } from './enrol.js';
import { readEdgeKey, readEnrolment } from './data-dir.js';

const site = new TestSite();
const other = new TestSite({ name: 'Another Space' });
const seed = toHex(new Uint8Array(32).fill(7));

function provisioning(over: Partial<ProvisioningFile> = {}, node: Partial<ProvisioningFile['node']> = {}): ProvisioningFile {
  return {
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: 'mqtt://127.0.0.1:1883' }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'front-door-pi', kind: 'door', resource: 'front-door', seed, ...node }, created: 1, ...over,
  };
}

function file(content: unknown): string {
  const p = join(tempDir('km-prov-'), 'pi.json');
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

test('enrol makes a private data folder seeded with the genesis, the key from the file', () => {
  const dir = join(tempDir('km-edge-'), 'edge');
  const r = enrol(file(provisioning()), dir);
  expect(r.keyMadeHere).toBe(false);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  for (const f of ['enrolment.json', 'node.key']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  expect(readEnrolment(r.paths).cardKey).toBe(TEST_CARD_KEY);
  expect(readEdgeKey(r.paths).publicKey).toBe(r.key.publicKey);
  const l = Ledger.open(r.paths.ledger, { site: site.site });
  expect(l.count()).toBe(1);
  l.close();
});

test('without a seed the node makes its own key and says an admin must enrol it', () => {
  const prov = provisioning();
  delete (prov.node as { seed?: string }).seed;
  const r = enrol(file(prov), join(tempDir('km-edge-'), 'edge'));
  expect(r.keyMadeHere).toBe(true);
  expect(r.key.publicKey).toMatch(/^[0-9a-f]{64}$/);
});

test('a second enrol on the same folder is refused: a node keeps one key for its life', () => {
  const dir = join(tempDir('km-edge-'), 'edge');
  const first = enrol(file(provisioning()), dir);
  expect(() => enrol(file(provisioning()), dir)).toThrow(/already enrolled.*new key/s);
  expect(readEdgeKey(first.paths).publicKey).toBe(first.key.publicKey);
});

test.each([
  ['not JSON', () => '{"keymesh": "provisioning",', /not JSON/],
  ['not a provisioning file', () => ({ hello: 1 }), /not a provisioning file/],
  ["another site's genesis under this site's id", () => provisioning({ genesis: encodeEntry(other.genesis) }), /does not hash to its site id/],
  ['a node key its seed does not make', () => provisioning({}, { key: testKey(5).publicKey }), /seed makes another key/],
  ['a card key that is not 32 bytes of hex', () => ({ ...provisioning(), cardKey: 'abc' }), /cardKey/],
  ['oversized', () => 'x'.repeat(200_000), /larger than a provisioning file/],
])('a provisioning file %s is refused and nothing is written', (_what, content, why) => {
  const parent = tempDir('km-edge-');
  const dir = join(parent, 'edge');
  expect(() => enrol(file(content()), dir)).toThrow(why);
  expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
});
