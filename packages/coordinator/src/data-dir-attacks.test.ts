/**
 * A careless operator or another user of the machine against the data folder and the files the
 * commands write: a symlink planted where a secret's temporary file goes, a serve.json pointing
 * admin commands to another server, a serve.json or folder others may write, and keys others
 * may read. Each is refused, and nothing is written or sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { Coordinator } from './coordinator.js';
import { join } from 'node:path';
import { tempDir } from '@keymesh/testkit/temp-files';
import { Ledger } from '@keymesh/ledger';
import { dataPaths, readCardKey, readNodeKey, readSite, writeServeRecord } from './data-dir.js';
import { writeFileAtomic } from './files.js';
import { readOrCreateBrokerSecret } from './broker-credentials.js';
import { runCaptured } from './admin/run-captured.js';

async function initSite() {
  const root = tempDir('keymesh-dd-attacks-');
  const data = join(root, 'data');
  const init = await runCaptured(['init', '--site', 'Attacked space', '--data', data, '--keys', join(root, 'keys'), '--json']);
  expect(init.code).toBe(0);
  const { dailyAdminKey } = JSON.parse(init.out) as { dailyAdminKey: string };
  return { root, data, paths: dataPaths(data), key: dailyAdminKey };
}

/** An HTTP server on another address that counts what it is sent (it answers nothing useful). */
async function decoy(host: string) {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND","message":"x"}');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('files: writing a secret where others can plant files', () => {
  it('never writes through a symlink planted at the temporary name (a provisioning file written to /tmp)', () => {
    const shared = tempDir('keymesh-shared-');
    const victim = join(shared, 'victim');
    writeFileSync(victim, 'original\n');
    const out = join(shared, 'door.provisioning.json');
    symlinkSync(victim, `${out}.tmp-${process.pid}`);
    writeFileAtomic(out, '{"secret":1}\n', { mode: 0o600 });
    expect(readFileSync(victim, 'utf8')).toBe('original\n');
    const st = lstatSync(out);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toBe('{"secret":1}\n');
  });
});

describe('serve.json: where admin commands send signed entries', () => {
  it('refuses a record naming a server other than this machine\'s loopback; nothing is sent or written', async () => {
    const s = await initSite();
    const d = await decoy('127.0.0.2');
    try {
      writeServeRecord(s.paths, { pid: process.pid, http: d.url, mqtt: null, started: Date.now() });
      const r = await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', s.data, '--key', s.key]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/loopback/);
      expect(d.requests()).toBe(0);
    } finally {
      await d.close();
    }
  });

  it('refuses a record another user may write (mode 0666)', async () => {
    const s = await initSite();
    writeServeRecord(s.paths, { pid: process.pid, http: 'http://127.0.0.1:9', mqtt: null, started: Date.now() });
    chmodSync(s.paths.serve, 0o666);
    const r = await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', s.data, '--key', s.key]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/another user/);
  });

  it('refuses a record in a data folder others may write (mode 0777)', async () => {
    const s = await initSite();
    writeServeRecord(s.paths, { pid: process.pid, http: 'http://127.0.0.1:9', mqtt: null, started: Date.now() });
    chmodSync(s.paths.dir, 0o777);
    try {
      const r = await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', s.data, '--key', s.key]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/chmod 700/);
    } finally {
      chmodSync(s.paths.dir, 0o700);
    }
  });
});

describe('a data folder others may write', () => {
  it('keymesh init refuses an existing empty folder others may write; no key is written', async () => {
    const root = tempDir('keymesh-dd-attacks-');
    const data = join(root, 'shared');
    mkdirSync(data);
    chmodSync(data, 0o777);
    const r = await runCaptured(['init', '--site', 'Space', '--data', data, '--keys', join(root, 'keys')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/chmod 700/);
    expect(readdirSync(data)).toEqual([]);
    expect(existsSync(join(root, 'keys'))).toBe(false);
  });

  it('keymesh serve refuses to start on a folder others may write; it leaves no serve.json', async () => {
    const s = await initSite();
    chmodSync(s.paths.dir, 0o777);
    try {
      const started = await Coordinator.start({ data: s.data, mqttPort: 0, httpPort: 0, host: '127.0.0.1', log: pino({ level: 'silent' }) }).then(
        async (c) => (await c.stop(), 'started'),
        (err: { code?: string }) => err.code,
      );
      expect(started).toBe('BAD_DATA_FILE');
      expect(existsSync(s.paths.serve)).toBe(false);
    } finally {
      chmodSync(s.paths.dir, 0o700);
    }
  });
});

describe('keys of the data folder', () => {
  it('an admin command refuses an admin key file others may read; nothing is signed', async () => {
    const s = await initSite();
    chmodSync(s.key, 0o644);
    const r = await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', s.data, '--key', s.key]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/chmod 600/);
    const l = Ledger.open(s.paths.ledger, { site: readSite(s.paths).site });
    try {
      expect(l.member('ada')).toBeUndefined();
    } finally {
      l.close();
    }
  });

  it.each([
    ['node.key', (p: ReturnType<typeof dataPaths>) => readNodeKey(p), (p: ReturnType<typeof dataPaths>) => p.nodeKey],
    ['card.key', (p: ReturnType<typeof dataPaths>) => readCardKey(p.cardKey), (p: ReturnType<typeof dataPaths>) => p.cardKey],
    ['broker.secret', (p: ReturnType<typeof dataPaths>) => readOrCreateBrokerSecret(p.dir), (p: ReturnType<typeof dataPaths>) => join(p.dir, 'broker.secret')],
  ])('refuses %s readable by other users, naming chmod 600', async (_name, read, path) => {
    const s = await initSite();
    expect(() => read(s.paths)).not.toThrow();
    chmodSync(path(s.paths), 0o644);
    expect(() => read(s.paths)).toThrow(/chmod 600/);
  });
});
