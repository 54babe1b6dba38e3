/**
 * A careless operator: the coordinator's disk is lost and `keymesh serve` starts again from the
 * genesis in site.json (DESIGN §10: it rebuilds from the nodes' feeds). Until it has, the heads
 * its API answers are old, and an admin command would sign after them: the daily key's seq 2
 * signed a second time (init signed the coordinator's node.enrol as seq 2, which the nodes
 * hold), a fork that retires the admin key. The admin tool keeps what it signed beside the key
 * file (signed-mark.ts) and refuses a head below it; nothing is signed.
 *
 * For clients without a mark (the dashboard, another device), the rebuilt coordinator itself
 * refuses POST /api/entries (503 OWN_HEAD_UNKNOWN) until it has heard the nodes.
 */
import { rmSync } from 'node:fs';
import { nextEntry, type AnyEntry } from '@keymesh/protocol';
import { join } from 'node:path';
import { pino } from 'pino';
import { tempDir } from '@keymesh/testkit/temp-files';
import { Coordinator } from '../coordinator.js';
import { dataPaths } from '../data-dir.js';
import { statSync } from 'node:fs';
import { readKeyFile } from '../files.js';
import { markPath, readMark } from './signed-mark.js';
import { runCaptured } from './run-captured.js';

it('keymesh init and each admin command leave the mark of what the key signed (mode 0600)', async () => {
  const root = tempDir('keymesh-mark-');
  const data = join(root, 'data');
  const init = await runCaptured(['init', '--site', 'Marked space', '--data', data, '--keys', join(root, 'keys'), '--json']);
  const { dailyAdminKey, site } = JSON.parse(init.out) as { dailyAdminKey: string; site: string };
  const daily = readKeyFile(dailyAdminKey).publicKey;
  expect(readMark(dailyAdminKey, site, daily)?.seq).toBe(2);
  expect((await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', data, '--key', dailyAdminKey])).code).toBe(0);
  expect(readMark(dailyAdminKey, site, daily)?.seq).toBe(3);
  expect(statSync(markPath(dailyAdminKey)).mode & 0o777).toBe(0o600);
  expect(readMark(dailyAdminKey, 'ab'.repeat(32), daily)).toBeNull(); // another site's mark says nothing
});

it('a coordinator rebuilt from the genesis does not take an admin entry that re-signs a seq the nodes hold', async () => {
  const root = tempDir('keymesh-restored-');
  const data = join(root, 'data');
  const init = await runCaptured(['init', '--site', 'Restored space', '--data', data, '--keys', join(root, 'keys'), '--json']);
  expect(init.code).toBe(0);
  const { dailyAdminKey } = JSON.parse(init.out) as { dailyAdminKey: string };
  const daily = readKeyFile(dailyAdminKey).publicKey;
  const p = dataPaths(data);
  for (const f of [p.ledger, `${p.ledger}-wal`, `${p.ledger}-shm`]) rmSync(f, { force: true }); // the disk lost
  const c = await Coordinator.start({ data, mqttPort: 0, httpPort: 0, host: '127.0.0.1', log: pino({ level: 'silent' }) });
  try {
    expect(c.ledger.headOf(daily)?.seq).toBe(1); // the genesis only: seq 2 lives on the nodes
    const r = await runCaptured(['member', 'add', 'ada', '--name', 'Ada', '--data', data, '--key', dailyAdminKey]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signed seq 2 with it/);
    expect(c.ledger.headOf(daily)?.seq).toBe(1);
    // A client without a mark signs after the old head the API answers: the server refuses it.
    const head = await (await fetch(`http://127.0.0.1:${c.httpPort}/api/feeds/${daily}/head`)).json() as { line: string };
    const again = nextEntry(JSON.parse(head.line) as AnyEntry, 'member.put', { member: 'ada', name: 'Ada', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, readKeyFile(dailyAdminKey));
    const res = await fetch(`http://127.0.0.1:${c.httpPort}/api/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: again.wire }) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('OWN_HEAD_UNKNOWN');
    expect(c.ledger.headOf(daily)?.seq).toBe(1);
    expect(c.rebuilt).toBe(true);
  } finally {
    await c.stop();
  }
});
