// The admin commands against the ledger file (no server running): `keymesh init` in a temp
// folder, then each command run in-process through main(argv), stdout and stderr captured.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextEntry, type AnyEntry } from '@keymesh/protocol';
import { Ledger } from '@keymesh/ledger';
import { testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { dataPaths } from '../data-dir.js';
import { readKeyFile } from '../files.js';
import { initSiteIn, runCaptured, withLedger, type Captured } from './run-captured.js';
import { follow, ledgerLog } from './access-log.js';
import { ledgerTarget } from './target.js';
import { signAndSubmit } from './writer.js';

const km = (...argv: string[]): Promise<Captured> => runCaptured(argv);

const site = () => initSiteIn(tempDir('keymesh-admin-'));

/** Every byte of every file in the data folder (the ledger, its WAL, …) as latin1 text. */
function folderBytes(data: string): string {
  return readdirSync(data).map((f) => readFileSync(join(data, f)).toString('latin1')).join('\n');
}

describe('keymesh member', () => {
  let s: Awaited<ReturnType<typeof site>>;
  beforeAll(async () => {
    s = await site();
  });

  it('member add puts the member in the ledger state, active', async () => {
    const r = await s.a('member', 'add', 'ada', '--name', 'Ada Lovelace', '--contact', 'ada@example.org', '--expires', '2030-01-31');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('Member ada (Ada Lovelace) added');
    const m = withLedger(s.data, (l) => l.member('ada'));
    expect(m).toMatchObject({ member: 'ada', name: 'Ada Lovelace', contact: 'ada@example.org', status: 'active' });
    expect(new Date(m!.validUntil!).getFullYear()).toBe(2030);
  });

  it('a second add of the same id is refused and signs nothing', async () => {
    const before = withLedger(s.data, (l) => l.count());
    const r = await s.a('member', 'add', 'ada', '--name', 'Someone else');
    expect(r.code).toBe(1);
    expect(r.err).toContain('member update ada');
    expect(withLedger(s.data, (l) => l.count())).toBe(before);
  });

  it('member suspend makes the status suspended; reinstate makes it active; --json reports the entry', async () => {
    const r = await s.a('member', 'suspend', 'ada', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, type: 'member.put', keys: ['member/ada'] });
    expect(withLedger(s.data, (l) => l.member('ada')?.status)).toBe('suspended');
    expect((await s.a('member', 'reinstate', 'ada')).code).toBe(0);
    const m = withLedger(s.data, (l) => l.member('ada'));
    expect(m).toMatchObject({ status: 'active', name: 'Ada Lovelace', contact: 'ada@example.org' }); // the rest of the record kept
  });

  it('member update changes only what is given', async () => {
    expect((await s.a('member', 'update', 'ada', '--contact', 'ada@new.example')).code).toBe(0);
    expect(withLedger(s.data, (l) => l.member('ada'))).toMatchObject({ name: 'Ada Lovelace', contact: 'ada@new.example', status: 'active' });
  });

  it('a bad flag value is refused naming the flag, and nothing is signed', async () => {
    const before = withLedger(s.data, (l) => l.count());
    const cases: Array<[string[], string]> = [
      [['member', 'add', 'bob', '--name', 'Bob', '--expires', '2030-02-30'], '--expires'],
      [['member', 'add', 'bob', '--name', 'x'.repeat(300)], '--name'],
      [['member', 'add', 'b/ob', '--name', 'Bob'], 'MEMBER'],
      [['resource', 'add', 'laser', '--name', 'Laser', '--kind', 'machine', '--unlock-seconds', '0'], '--unlock-seconds'],
      [['resource', 'add', 'laser', '--name', 'Laser', '--kind', 'boat'], '--kind'],
      [['lockout', 'set', 'laser', '--state', 'later'], '--state'],
      [['card', 'bind', '12345678', '--member', 'ada', '--form', 'octal'], '--form'],
    ];
    for (const [argv, flag] of cases) {
      const r = await s.a(...argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toContain(flag);
    }
    expect(withLedger(s.data, (l) => l.count())).toBe(before);
  });

  it('a key file that is not an admin is refused (NOT_ADMIN)', async () => {
    const other = join(tempDir('keymesh-admin-other-'), 'x.key');
    const { writeKeyFile } = await import('../files.js');
    writeKeyFile(other, testKey(901), 'not an admin');
    const r = await km('member', 'add', 'eve', '--name', 'Eve', '--data', s.data, '--key', other, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toMatchObject({ ok: false, error: { code: 'NOT_ADMIN' } });
    expect(withLedger(s.data, (l) => l.member('eve'))).toBeUndefined();
  });
});

describe('keymesh card', () => {
  it('a fob typed as decimal and as hex gives one reference; the number appears nowhere', async () => {
    const s = await site();
    expect((await s.a('member', 'add', 'ada', '--name', 'Ada')).code).toBe(0);
    expect((await s.a('member', 'add', 'bob', '--name', 'Bob')).code).toBe(0);
    // 3735928559 is 0xdeadbeef: the number printed on the fob, and the bytes a reader shows.
    const dec = await s.a('card', 'bind', '3735928559', '--form', 'decimal', '--member', 'ada', '--json');
    expect(dec.code).toBe(0);
    const ref = (JSON.parse(dec.out) as { card: string }).card;
    expect(ref).toMatch(/^[0-9a-f]{32}$/);
    const hex = await s.a('card', 'bind', 'DE:AD:BE:EF', '--member', 'bob');
    expect(hex.code).toBe(0);
    expect(hex.out).toContain(`Card ${ref} bound to bob (it was ada's)`);
    expect(withLedger(s.data, (l) => l.memberByCard(ref).card)).toEqual({ card: ref, state: 'bound', member: 'bob' });
    // A typo'd number: refused without repeating it.
    const bad = await s.a('card', 'bind', '37359zz559', '--form', 'decimal', '--member', 'ada');
    expect(bad.code).toBe(2);
    // Digits alone without --form are ambiguous: refused.
    const amb = await s.a('card', 'bind', '3735928559', '--member', 'ada');
    expect(amb.code).toBe(2);
    expect(amb.err).toContain('--form');
    const unbind = await s.a('card', 'unbind', 'de', 'ad', 'be', 'ef', '--reason', 'lost');
    expect(unbind.code).toBe(0);
    expect(withLedger(s.data, (l) => l.memberByCard(ref).card)).toEqual({ card: ref, state: 'unbound' });
    const said = [dec, hex, bad, amb, unbind].map((r) => r.out + r.err).join('\n').toLowerCase();
    const stored = folderBytes(s.data).toLowerCase();
    for (const spelling of ['3735928559', 'deadbeef', 'de:ad:be:ef', '37359zz559']) {
      expect(said.includes(spelling)).toBe(false);
      expect(stored.includes(spelling)).toBe(false);
    }
    expect(stored.includes(ref)).toBe(true); // the reference is what the ledger holds
  });
});

describe('stale head', () => {
  it('an entry signed elsewhere with the same key first: a clear refusal with the head, nothing signed twice', async () => {
    const s = await site();
    const paths = dataPaths(s.data);
    const key = readKeyFile(s.key);
    const target = ledgerTarget(paths.ledger, s.site);
    // The other device signs its entry between our read of the head and our submit.
    const realHead = target.head.bind(target);
    let raced = false;
    target.head = async (author) => {
      const h = await realHead(author);
      if (!raced) {
        raced = true;
        const other = nextEntry(JSON.parse(h!.line) as AnyEntry, 'member.put', { member: 'zed', name: 'Zed', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, key, { site: s.site });
        expect(await target.submit(other.wire)).toMatchObject({ ok: true });
      }
      return h;
    };
    try {
      const before = (await realHead(key.publicKey))!.seq;
      await expect(signAndSubmit(target, key, s.site, 'member.put', { member: 'ada', name: 'Ada', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, ['member/ada']))
        .rejects.toMatchObject({ code: 'STALE_HEAD', message: expect.stringContaining(`now holds seq ${before + 1}`) });
      const after = await realHead(key.publicKey);
      expect(after!.seq).toBe(before + 1); // only the other device's entry
    } finally {
      await target.close();
    }
    withLedger(s.data, (l) => {
      expect(l.member('ada')).toBeUndefined();
      expect(l.member('zed')?.name).toBe('Zed');
      expect(l.forks()).toEqual([]);
    });
    // Run again, the command signs after the head it now reads.
    expect((await s.a('member', 'add', 'ada', '--name', 'Ada')).code).toBe(0);
  });
});

describe('resources, certifications, trainers, lockouts', () => {
  it('each command changes the register it names', async () => {
    const s = await site();
    expect((await s.a('member', 'add', 'ada', '--name', 'Ada')).code).toBe(0);
    expect((await s.a('member', 'add', 'tom', '--name', 'Tom')).code).toBe(0);
    expect((await s.a('resource', 'add', 'laser', '--name', 'Laser', '--kind', 'machine', '--unlock-seconds', '10')).code).toBe(0);
    expect((await s.a('resource', 'add', 'front', '--name', 'Front door', '--kind', 'door')).code).toBe(0);
    expect((await s.a('resource', 'update', 'laser', '--max-stale-hours', 'none', '--risk', 'normal')).code).toBe(0);
    expect((await s.a('cert', 'grant', 'ada', 'laser', '--note', 'induction')).code).toBe(0);
    expect((await s.a('trainer', 'add', 'tom', '--resource', 'laser')).code).toBe(0);
    expect((await s.a('lockout', 'set', 'laser', '--state', 'when_idle', '--reason', 'lens')).code).toBe(0);
    withLedger(s.data, (l) => {
      expect(l.resources().map((r) => r.resource).sort()).toEqual(['front', 'laser']);
      expect(l.policy.resource('laser')).toMatchObject({ kind: 'machine', unlockSeconds: 10, requiredCerts: ['laser'], maxStaleHours: null, risk: 'normal', name: 'Laser' });
      expect(l.policy.resource('front')).toMatchObject({ kind: 'door', requiredCerts: [], risk: 'normal' });
      expect(l.policy.certified('ada', 'laser')).toBe(true);
      expect(l.member('tom')?.trainerFor).toEqual({ laser: null });
      expect(l.policy.lockout('laser')).toMatchObject({ state: 'when_idle', reason: 'lens', by: null });
    });
    expect((await s.a('cert', 'revoke', 'ada', 'laser')).code).toBe(0);
    expect((await s.a('trainer', 'remove', 'tom', '--cert', 'laser')).code).toBe(0);
    expect((await s.a('lockout', 'lift', 'laser')).code).toBe(0);
    const again = await s.a('trainer', 'remove', 'tom', '--cert', 'laser');
    expect(again.code).toBe(2); // withdrawing again would move the positions forward
    withLedger(s.data, (l) => {
      expect(l.policy.certified('ada', 'laser')).toBe(false);
      expect(l.member('tom')?.trainerFor).toEqual({ laser: {} }); // tom has no keys: no entry of his counts
      expect(l.policy.lockout('laser')?.state).toBe('lifted');
    });
  });

  it('unlock without a server says one is needed', async () => {
    const s = await site();
    const r = await s.a('unlock', testKey(5).publicKey, '--resource', 'front');
    expect(r.code).toBe(1);
    expect(r.err).toContain('keymesh serve');
  });
});

describe('keymesh admin', () => {
  it('quorum 1 signs at once; with quorum 2 a proposal file collects the approvals and the last one submits', async () => {
    const s = await site();
    const k1 = testKey(801).publicKey;
    const add = await s.a('admin', 'add', k1, '--quorum', '2');
    expect(add.code).toBe(0); // under quorum 1, the daily key alone suffices
    const list = JSON.parse((await s.a('admin', 'list', '--json')).out) as { admins: Array<{ key: string; until: number | null }>; quorum: number };
    expect(list.quorum).toBe(2);
    expect(list.admins.find((a) => a.key === k1)?.until).toBeNull();

    const k2 = testKey(802).publicKey;
    const file = join(tempDir('keymesh-proposal-'), 'p.json');
    const prop = await s.a('admin', 'add', k2, '--out', file);
    expect(prop.code).toBe(0);
    expect(prop.out).toContain('needs 2 admin signatures; it has 1');
    expect(withLedger(s.data, (l) => l.policy.admins()!.value.admins[k2])).toBeUndefined(); // not yet
    // The same admin cannot approve twice.
    expect((await s.a('admin', 'approve', file)).code).toBe(2);
    const ok = await km('admin', 'approve', file, '--data', s.data, '--key', s.recovery, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, type: 'admins.change', counts: true, approvals: 2, needed: 2 });
    expect(withLedger(s.data, (l) => l.policy.admins()!.value.admins[k2])).toBeNull();
    // The set changed since: an old proposal is stale.
    const stale = await km('admin', 'approve', file, '--data', s.data, '--key', s.recovery);
    expect(stale.code).not.toBe(0);
  });

  it('admin remove keeps the removed key\'s past (until = its head)', async () => {
    const s = await site();
    const recovery = readKeyFile(s.recovery).publicKey;
    const r = await s.a('admin', 'remove', recovery);
    expect(r.code).toBe(0);
    expect(withLedger(s.data, (l) => l.policy.admins()!.value.admins[recovery])).toBe(0); // it signed nothing
  });
});

describe('keymesh log and status without a server', () => {
  it('log --json lists the decisions in the ledger; text lines say allow/deny and why; status reads the ledger', async () => {
    const s = await site();
    const edge = testKey(611);
    const admin = readKeyFile(s.key);
    withLedger(s.data, (l) => {
      l.appendMany(admin, [
        { type: 'node.enrol', body: { node: edge.publicKey, name: 'front-door-pi', role: 'edge', resources: ['front'] } },
      ]);
      l.appendMany(edge, [
        { type: 'access.decision', body: { resource: 'front', credential: { kind: 'card', card: 'ab'.repeat(16) }, allow: false, reason: 'UNKNOWN_CARD', member: null, at: 1_790_000_000_000 } },
        { type: 'access.decision', body: { resource: 'front', credential: { kind: 'card', card: 'cd'.repeat(16) }, allow: true, reason: 'ALLOWED', member: 'ada', at: 1_790_000_060_000 } },
      ]);
    });
    const j = await km('log', '--json', '--data', s.data);
    expect(j.code).toBe(0);
    const rows = (JSON.parse(j.out) as { rows: Array<{ member: string | null; allow: boolean; resource: string }> }).rows;
    expect(rows.map((r) => [r.member, r.allow, r.resource])).toEqual([[null, false, 'front'], ['ada', true, 'front']]);
    const text = await km('log', '--data', s.data);
    const lines = text.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/deny\s+card is not enrolled/);
    expect(lines[1]).toMatch(/ada\s+front\s+allow\s+allowed/);
    const only = JSON.parse((await km('log', '--json', '--member', 'ada', '--data', s.data)).out) as { rows: unknown[] };
    expect(only.rows).toHaveLength(1);
    expect((await km('log', '--limit', '0', '--data', s.data)).err).toContain('--limit');

    const st = await km('status', '--json', '--data', s.data);
    expect(st.code).toBe(0);
    const rep = JSON.parse(st.out) as { live: boolean; nodes: Array<{ name: string; online: boolean | null }>; conflicts: number; forks: number };
    expect(rep.live).toBe(false);
    expect(rep.nodes.map((n) => n.name).sort()).toEqual(['coordinator', 'front-door-pi']);
    expect(rep.nodes.every((n) => n.online === null)).toBe(true);
    expect(rep).toMatchObject({ conflicts: 0, forks: 0 });
    expect((await km('status', '--data', s.data)).out).toContain('live data needs `keymesh serve`');
  });
});

describe('log --follow', () => {
  it('prints the recent events, then each new one once, oldest first, until stopped', async () => {
    const s = await site();
    const edge = testKey(612);
    const p = dataPaths(s.data);
    const writer = Ledger.open(p.ledger, { site: s.site });
    const decision = (member: string, at: number) => ({ type: 'access.decision' as const, body: { resource: 'front', credential: { kind: 'card' as const, card: 'ef'.repeat(16) }, allow: true, reason: 'ALLOWED' as const, member, at } });
    writer.appendMany(readKeyFile(s.key), [{ type: 'node.enrol', body: { node: edge.publicKey, name: 'pi', role: 'edge', resources: ['front'] } }]);
    writer.appendMany(edge, [decision('m1', 1_790_000_000_000), decision('m2', 1_790_000_001_000)]);
    writer.flush();
    // The follower reads the file as `keymesh log` does without a server; the writer stands in for whoever writes it.
    const src = ledgerLog(p.ledger, s.site);
    const printed: string[] = [];
    const stop = new AbortController();
    let polls = 0;
    const done = follow(src, { limit: 20 }, async (rows) => {
      printed.push(...rows.map((r) => r.member!));
      polls++;
      if (polls === 1) {
        writer.appendMany(edge, [decision('m3', 1_790_000_002_000)]);
        writer.flush();
      }
      if (printed.includes('m3') || polls > 200) stop.abort();
    }, stop.signal, 5);
    await done;
    await src.close();
    writer.close();
    expect(printed).toEqual(['m1', 'm2', 'm3']);
  });
});
