// Red team: hostile files and a clumsy operator. A provisioning or config path that is a FIFO or
// a device (a symlink to /dev/zero) must be refused without blocking or reading without bound;
// YAML bombs, prototype keys and absurd numbers in the config are refused and pollute nothing;
// an agent.json left by a power cut must not keep the agent from starting after a reboot.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEntry, toHex } from '@keymesh/protocol';
import { TestSite, TEST_CARD_KEY, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { loadConfig } from './config/load.js';
import { edgePaths, processIdentity, readEdgeKey, readEnrolment, runningAgent, writeAgentRecord } from './data-dir.js';
import { enrol, readProvisioningFile } from './enrol.js';

const children: ChildProcess[] = [];
afterEach(() => {
  // The writer is a pipeline (sh, head, tr): its own process group, killed whole.
  for (const c of children.splice(0)) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A FIFO with a writer that pours `bytes` spaces into it (as soon as someone opens it). */
function fifoWithWriter(bytes: number): string {
  const p = join(tempDir('km-fifo-'), 'pi.json');
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  const c = spawn('sh', ['-c', `head -c ${bytes} /dev/zero | tr '\\000' ' ' > "$1"`, 'sh', p], { stdio: 'ignore', detached: true });
  children.push(c);
  return p;
}

test('a provisioning file that is a FIFO is refused as not a regular file (its size limit could not hold)', () => {
  const p = fifoWithWriter(300_000);
  expect(() => readProvisioningFile(p)).toThrow(expect.objectContaining({ code: 'BAD_PROVISIONING', message: expect.stringMatching(/not a regular file/) }));
});

test('a provisioning path that is a symlink to /dev/zero is refused at once, nothing read', () => {
  const p = join(tempDir('km-zero-'), 'pi.json');
  symlinkSync('/dev/zero', p);
  const dir = join(tempDir('km-edge-'), 'edge');
  expect(() => enrol(p, dir)).toThrow(expect.objectContaining({ code: 'BAD_PROVISIONING', message: expect.stringMatching(/not a regular file/) }));
});

test('a config that is a FIFO or /dev/zero is refused as not a regular file', () => {
  expect(() => loadConfig(fifoWithWriter(2_000_000))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(/not a regular file/) }));
  const z = join(tempDir('km-zero-'), 'edge.yaml');
  symlinkSync('/dev/zero', z);
  expect(() => loadConfig(z)).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(/not a regular file/) }));
});

function configFile(text: string): string {
  const p = join(tempDir('km-cfg-'), 'edge.yaml');
  writeFileSync(p, text);
  return p;
}

test('a YAML alias bomb is refused quickly', () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  expect(() => loadConfig(configFile(lines.join('\n')))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
});

test('prototype keys in the config are refused and pollute nothing', () => {
  const yaml = ['__proto__:', '  polluted: yes', 'devices:', '  reader: { driver: sim }', '  relay: { driver: sim, __proto__: { polluted: yes } }', 'constructor: { prototype: { polluted: yes } }'].join('\n');
  expect(() => loadConfig(configFile(yaml))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const json = '{"__proto__": {"polluted": true}, "devices": {"reader": {"driver": "sim"}, "relay": {"driver": "sim"}}}';
  expect(() => loadConfig(configFile(json))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('absurd numbers in the config are refused, naming the field', () => {
  const yaml = ['devices:', '  reader: { driver: sim }', '  relay: { driver: sim }', 'sync: { intervalMs: 1e308 }', 'taps: { unknownBurst: .inf }'].join('\n');
  expect(() => loadConfig(configFile(yaml))).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(/sync\.intervalMs[\s\S]*taps\.unknownBurst|taps\.unknownBurst[\s\S]*sync\.intervalMs/) }));
});

function enrolled(): ReturnType<typeof enrol> {
  const site = new TestSite();
  const p = join(tempDir('km-prov-'), 'pi.json');
  writeFileSync(p, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: 'mqtt://127.0.0.1:1883' }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front-door', seed: toHex(new Uint8Array(32).fill(5)) }, created: 1,
  }));
  return enrol(p, join(tempDir('km-edge-'), 'edge'));
}

test('a node.key another user can read is refused', () => {
  const r = enrolled();
  chmodSync(r.paths.nodeKey, 0o644);
  expect(() => readEdgeKey(r.paths)).toThrow(expect.objectContaining({ code: 'BAD_DATA_FILE', message: expect.stringMatching(/chmod 600/) }));
});

test('a data folder other users can write to is refused (they could swap ledger.db, whose rules the node trusts)', () => {
  const r = enrolled();
  expect(readEnrolment(r.paths).node.name).toBe('door-pi');
  chmodSync(r.paths.dir, 0o777);
  expect(() => readEnrolment(r.paths)).toThrow(expect.objectContaining({ code: 'BAD_DATA_FILE', message: expect.stringMatching(/chmod 700/) }));
  chmodSync(r.paths.dir, 0o750); // readable by the group: still nobody else can write
  expect(readEnrolment(r.paths).node.name).toBe('door-pi');
});

test('an agent.json left by a power cut, its pid now reused by another process after the reboot, does not block the agent', () => {
  const r = enrolled();
  // As the agent of the previous boot wrote it: pid 1 is alive now, but it is not that process.
  writeAgentRecord(r.paths, { pid: 1, panel: null, started: Date.now() - 3_600_000, proc: '00000000-0000-0000-0000-000000000000:4242' });
  expect(runningAgent(edgePaths(r.paths.dir))).toBeNull();
  // A record naming a live process as it is still stops a second agent...
  writeAgentRecord(r.paths, { pid: process.ppid, panel: null, started: Date.now(), proc: processIdentity(process.ppid)! });
  expect(runningAgent(r.paths)?.pid).toBe(process.ppid);
  // ...and so does the record a running agent writes of itself.
  writeAgentRecord(r.paths, { pid: process.pid, panel: null, started: Date.now() });
  expect(runningAgent(r.paths)?.proc).toBe(processIdentity(process.pid));
});
