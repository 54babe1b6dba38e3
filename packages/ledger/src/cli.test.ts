// keymesh-ledger run as a real child process (node bin/keymesh-ledger.js ...) against real
// SQLite files in a temp dir.
import { describe, it, expect, beforeAll } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { encodeEntry, PolicyState } from '@keymesh/protocol';
import { playHistory, shuffled, type History, type HistoryStep } from '@keymesh/testkit/site';
import { Ledger } from './ledger.js';
import { tempDir } from '@keymesh/testkit/temp-ledger';

const BIN = fileURLToPath(new URL('../bin/keymesh-ledger.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The same, without blocking: independent runs go in parallel (two cores). */
function cliAsync(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
function cliJson(...args: string[]): Run & { json: Record<string, unknown> } {
  const r = cli(...args, '--json');
  return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> };
}

/** Deterministic random steps for playHistory. */
function steps(n: number, seed: number): HistoryStep[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s >>> 8);
  return Array.from({ length: n }, () => [next(), next(), next(), next()] as HistoryStep);
}

let dir: string;
let history: History;
let source: string;
let lines: string[];
let sourceDigest: string;
let sourceHeads: Record<string, number>;

beforeAll(() => {
  dir = tempDir('keymesh-cli-');
  // No equivocations (step kind 15): here every line is a feed entry, so an export is exactly
  // the feeds. Fork proofs through export and import: trust-sync.test.ts.
  history = playHistory(steps(400, 7).filter(([, kind]) => kind % 16 !== 15));
  source = join(dir, 'source.db');
  const ledger = Ledger.open(source, { site: history.site.site, durability: 'process' });
  const r = ledger.ingest(shuffled(history.entries().map(encodeEntry), 3));
  // The outsider X holds no authority: its entries wait in pending, never a feed (issue 10, finding 13);
  // nor do the entries of a retired node past its lastSeq.
  const outsider = history.entries().filter((e) => e.author === history.writers.X.id).length;
  const state = PolicyState.from(history.site.site, history.entries());
  const retired = history.entries().filter((e) => e.author !== history.writers.X.id && !state.hasAuthorityAt(e.author, e.seq) && !state.isAdminKey(e.author, 1)).length;
  expect(r).toMatchObject({ rejected: [], waiting: outsider + retired });
  sourceDigest = ledger.digest();
  sourceHeads = ledger.heads();
  lines = [...ledger.iterateEncoded()];
  ledger.close();
  expect(lines.length).toBeGreaterThan(200);
  expect(Object.keys(sourceHeads).length).toBe(4); // every writer but the outsider
});

let fileNo = 0;
function file(text: string): string {
  const p = join(dir, `in-${fileNo++}.jsonl`);
  writeFileSync(p, text);
  return p;
}
const freshDb = () => join(dir, `db-${fileNo++}.db`);

describe('export | import round trip', () => {
  it('export, shuffled with duplicates and blank lines, imported into an empty db: same digest and heads, exit 0', () => {
    const ex = cli('export', source);
    expect(ex.code).toBe(0);
    expect(ex.stdout).toBe(lines.join('\n') + '\n'); // one canonical entry per line, in feed order
    const exported = ex.stdout.trimEnd().split('\n');
    const dups = shuffled(exported, 11).slice(0, 60);
    const mixed = shuffled([...exported, ...dups, '', '   '], 5);
    const target = freshDb();
    // No --site: the site comes from the genesis line.
    const im = cliJson('import', target, file(mixed.join('\n') + '\n'));
    expect(im.code).toBe(0);
    expect(im.json).toMatchObject({
      ok: true, site: history.site.site, lines: exported.length + 60, accepted: exported.length, duplicates: 60, waiting: 0, rejected: [], forks: [], digest: sourceDigest,
    });
    expect(im.stderr).toMatch(/site [0-9a-f]{64} taken from the genesis at line \d+/);
    expect(cli('digest', target).stdout.trim()).toBe(sourceDigest);
    expect(cliJson('heads', target).json).toEqual({ heads: sourceHeads });
    expect(cli('verify', target).code).toBe(0);
  });

  it('small batches: entries that wait for a predecessor in one batch apply in a later one; --site for a new db', () => {
    const target = freshDb();
    const mixed = shuffled([...lines, ...lines.slice(0, 40)], 23);
    const im = cliJson('import', target, file(mixed.join('\n')), '--batch', '7', '--site', history.site.site);
    expect(im.code).toBe(0);
    expect(im.json).toMatchObject({ accepted: lines.length, waiting: 0, rejected: [], digest: sourceDigest, siteFrom: '--site' });
    // Importing again into the (now existing) db: everything is a duplicate.
    const again = cliJson('import', target, file(lines.join('\n')));
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ accepted: 0, duplicates: lines.length, siteFrom: 'database' });
  });

  it('a partial export waits for the rest, then a second import completes it', () => {
    const target = freshDb();
    const { A } = history.writers;
    const first = lines.filter((l, i) => !(l.includes(`"author":"${A.id}"`) && i % 2 === 0) || l.includes('"site.genesis"'));
    const im = cliJson('import', target, file(shuffled(first, 2).join('\n')), '--site', history.site.site);
    expect(im.code).toBe(0);
    expect(im.json.waiting).toBeGreaterThan(0);
    expect(cli('import', target, file(lines.join('\n'))).code).toBe(0);
    expect(cli('digest', target).stdout.trim()).toBe(sourceDigest);
  });

  it('export --author gives that feed only; export --json is one JSON document', () => {
    const { B } = history.writers;
    const ex = cli('export', source, '--author', B.id);
    expect(ex.code).toBe(0);
    const got = ex.stdout.trimEnd().split('\n');
    expect(got).toEqual(lines.filter((l) => JSON.parse(l).author === B.id));
    expect(got.map((l) => JSON.parse(l).seq)).toEqual(got.map((_, i) => i + 1));
    const js = cliJson('export', source);
    expect(js.json.count).toBe(lines.length);
    expect((js.json.entries as unknown[]).map((e) => encodeEntry(e as never))).toEqual(lines);
  });
});

describe('import of changed bytes', () => {
  /** Index of a line of `author` with `seq` in the export. */
  const lineOf = (pred: (e: { author: string; seq: number; type: string }) => boolean) => lines.findIndex((l) => pred(JSON.parse(l)));
  const successors = (i: number) => {
    const e = JSON.parse(lines[i]!) as { author: string; seq: number };
    return sourceHeads[e.author]! - e.seq;
  };
  const flip = (line: string, at: number, to?: string) => {
    const old = line[at]!;
    const hex = '0123456789abcdef';
    const c = to ?? (hex.includes(old) ? hex[(hex.indexOf(old) + 1) % 16]! : old === 'a' ? 'b' : 'a');
    return line.slice(0, at) + c + line.slice(at + 1);
  };

  const T = () => history.writers.T;
  /** Position of a character inside the first non-empty string value of the body. */
  const inBody = (l: string) => {
    const m = /":"[^"]/.exec(l.slice(l.indexOf('"body":')));
    return l.indexOf('"body":') + m!.index + 3;
  };
  const cases: Array<[string, () => number, (l: string) => number, RegExp]> = [
    ['the body of a head entry', () => lineOf((e) => e.author === T().id && e.seq === sourceHeads[T().id]), inBody, /signature|does not verify/],
    ['the body of an entry mid-feed', () => lineOf((e) => e.author === history.writers.A.id && e.seq === 5), inBody, /signature|does not verify/],
    ['the signature', () => lineOf((e) => e.author === history.writers.B.id && e.seq === 3), (l) => l.indexOf('"sig":"') + 20, /does not verify/],
    ['the author', () => lineOf((e) => e.author === history.writers.N.id && e.seq === 4), (l) => l.indexOf('"author":"') + 30, /does not verify/],
    ['the prev link', () => lineOf((e) => e.author === history.writers.N.id && e.seq === 2), (l) => l.indexOf('"prev":"') + 9, /does not verify/],
    ['the seq (non-canonical)', () => lineOf((e) => e.author === history.writers.A.id && e.seq === 12), (l) => l.indexOf('"seq":') + 6, /./],
  ];

  it.each(cases)('a changed byte in %s: that line is rejected with its number and a reason, exit 1, the rest is accepted or waits for it', (_name, pick, pos, reason) => {
    const i = pick();
    expect(i).toBeGreaterThanOrEqual(0);
    const victim = lines[i]!;
    const forged = flip(victim, pos(victim));
    expect(forged).not.toBe(victim);
    const order = shuffled(lines.map((_, k) => k), 17);
    const text = order.map((k) => (k === i ? forged : lines[k]!)).join('\n');
    const lineNo = order.indexOf(i) + 1;
    const target = freshDb();
    const im = cliJson('import', target, file(text), '--site', history.site.site);
    expect(im.code).toBe(1);
    expect(im.json.ok).toBe(false);
    const rejected = im.json.rejected as Array<{ line: number; code: string; reason: string }>;
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ line: lineNo, reason: expect.stringMatching(reason) });
    // The rest is accepted or waits: the feed's successors, and feeds whose authority came from
    // the missing entry or its successors (a node enrolment, a member's key).
    expect((im.json.accepted as number) + (im.json.waiting as number)).toBe(lines.length - 1);
    expect(im.json.waiting).toBeGreaterThanOrEqual(successors(i));
    expect(im.json.forks).toEqual([]);
    if (_name !== 'the signature') return;
    // Human output names the line, the code and the reason.
    const human = cli('import', freshDb(), file(text), '--site', history.site.site);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`line ${lineNo}: `);
    expect(human.stdout).toMatch(/rejected\s+1\n/);
  });

  it('any single byte changed anywhere in a line is rejected (random positions and values)', () => {
    let s = 99;
    const rnd = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), (s >>> 8) % n);
    const text: string[] = [...lines];
    const changed: number[] = [];
    // Change heads only, so every other line is accepted and each change is judged alone.
    for (const author of Object.keys(sourceHeads)) {
      const i = lines.findIndex((l) => JSON.parse(l).author === author && JSON.parse(l).seq === sourceHeads[author]);
      const l = lines[i]!;
      const at = rnd(l.length);
      let c = String.fromCharCode(0x20 + rnd(95));
      if (c === l[at]) c = c === 'x' ? 'y' : 'x';
      text[i] = l.slice(0, at) + c + l.slice(at + 1);
      changed.push(i + 1);
    }
    const im = cliJson('import', freshDb(), file(text.join('\n')), '--site', history.site.site);
    expect(im.code).toBe(1);
    const rejected = im.json.rejected as Array<{ line: number; reason: string }>;
    expect(rejected.map((r) => r.line)).toEqual(changed.sort((a, b) => a - b));
    expect(rejected.every((r) => r.reason.length > 5)).toBe(true);
    expect(im.json.accepted).toBe(lines.length - changed.length);
  });

  it('a forged copy next to the genuine entry: the forgery is rejected, the genuine one accepted, no fork is recorded', () => {
    const i = lineOf((e) => e.author === history.writers.A.id && e.seq === 6);
    const victim = lines[i]!;
    const forged = flip(victim, inBody(victim));
    // The forgery comes first and both arrive before their predecessor.
    const rest = lines.filter((_, k) => k !== i);
    const text = [forged, victim, ...rest].join('\n');
    const im = cliJson('import', freshDb(), file(text), '--site', history.site.site);
    expect(im.code).toBe(1);
    expect(im.json).toMatchObject({ accepted: lines.length, waiting: 0, forks: [], digest: sourceDigest });
    expect(im.json.rejected).toEqual([expect.objectContaining({ line: 1, code: 'BAD_SIGNATURE' })]);
  });

  it('lines that are not entries are reported with their line number; blank lines are ignored', () => {
    const text = [lines[0]!, '', 'hello', '{"not":"an entry"}', lines[0]!.replace('{', '{ ')].join('\n');
    const im = cliJson('import', freshDb(), file(text), '--site', history.site.site);
    expect(im.code).toBe(1);
    expect(im.json.rejected).toEqual([
      expect.objectContaining({ line: 3, code: 'BAD_JSON' }),
      expect.objectContaining({ line: 4, code: 'SCHEMA' }),
      expect.objectContaining({ line: 5, code: 'NOT_CANONICAL_BYTES' }),
    ]);
    expect(im.json.lines).toBe(4);
  });
});

describe('verify, digest, heads', () => {
  it('verify: a good database exits 0', () => {
    const r = cli('verify', source);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(new RegExp(`ok: ${lines.length} entries in 4 feeds verified, no problems`));
    expect(cliJson('verify', source).json).toEqual({ ok: true, entries: lines.length, feeds: 4, problems: [] });
  });

  it('verify: an entry changed inside the file is reported with author, seq and reason, exit 1', () => {
    const copy = freshDb();
    expect(cli('import', copy, file(lines.join('\n'))).code).toBe(0);
    const { B } = history.writers;
    const db = new Database(copy);
    const stored = lines.find((l) => JSON.parse(l).author === B.id && JSON.parse(l).seq === 3)!;
    const changed = stored.replace(/"hlc":\{"logical":(\d+)/, (_m, n: string) => `"hlc":{"logical":${Number(n) + 1}`);
    expect(changed).not.toBe(stored);
    // By content, so the test does not depend on the table's other columns.
    expect(db.prepare('UPDATE entries SET json = ? WHERE json = ?').run(changed, stored).changes).toBe(1);
    db.close();
    const r = cli('verify', copy);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${B.id} seq 3: stored hash does not match the content`);
    expect(r.stdout).toContain(`${B.id} seq 3: signature does not verify`);
    expect(r.stdout).toContain(`${B.id} seq 4: prev`);
    expect(r.stdout).toMatch(/3 problems in \d+ entries of 4 feeds/);
    const js = cliJson('verify', copy);
    expect(js.code).toBe(1);
    expect(js.json.ok).toBe(false);
    expect(js.json.problems).toEqual(expect.arrayContaining([{ author: B.id, seq: 3, reason: 'signature does not verify' }]));
  });

  it('digest and heads print the state digest and each feed head', () => {
    expect(cli('digest', source)).toMatchObject({ code: 0, stdout: sourceDigest + '\n' });
    expect(cliJson('digest', source).json).toEqual({ digest: sourceDigest, site: history.site.site, entries: lines.length });
    const h = cli('heads', source);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe(Object.entries(sourceHeads).map(([a, s]) => `${a} ${s}\n`).join(''));
    expect(cliJson('heads', source).json).toEqual({ heads: sourceHeads });
  });
});

describe('usage and errors', () => {
  it('--help on each command (and on the tool) prints its usage, exit 0', async () => {
    const main = cli('--help');
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^usage: keymesh-ledger <command>/);
    const commands = ['verify', 'digest', 'heads', 'export', 'import'];
    const runs = await Promise.all(commands.flatMap((c) => [cliAsync(c, '--help'), cliAsync(c, source, '-h')]));
    commands.forEach((c, i) => {
      const r = runs[2 * i]!;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: keymesh-ledger ${c} DB`));
      expect(runs[2 * i + 1]!.stdout).toBe(r.stdout);
    });
    expect(cli('import', '--help').stdout).toMatch(/genesis/); // where the site of a new db comes from
  });

  it('bad arguments: a clear message naming the mistake and the fix, exit 2', async () => {
    const bad: Array<[string[], RegExp]> = [
      [[], /no command given; use one of: verify/],
      [['frobnicate', source], /unknown command "frobnicate"; use one of/],
      [['verify', source, '--author', 'x'], /unknown option "--author" for verify; it takes --site/],
      [['digest'], /digest needs DB; missing DB/],
      [['import', freshDb()], /missing FILE\.jsonl/],
      [['heads', source, 'extra'], /unexpected "extra"/],
      [['export', source, '--author', 'nothex'], /--author "nothex" is not an author's public key/],
      [['import', freshDb(), 'x.jsonl', '--batch', '0'], /--batch needs a number of lines/],
      [['--verbose'], /unknown option "--verbose" before the command/],
    ];
    const runs = await Promise.all(bad.map(([args]) => cliAsync(...args)));
    for (const [k, [args, msg]] of bad.entries()) {
      const r = runs[k]!;
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    const js = cliJson('frobnicate');
    expect(js.json).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });

  it('a database that does not exist is an error (exit 2) and is not created', async () => {
    const commands = ['verify', 'digest', 'heads', 'export'];
    const runs = await Promise.all(commands.map((c) => cliAsync(c, join(dir, `missing-${c}.db`))));
    for (const [k, c] of commands.entries()) {
      const p = join(dir, `missing-${c}.db`);
      const r = runs[k]!;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`DB "${p}" does not exist`);
      expect(existsSync(p)).toBe(false);
    }
    // import: a missing FILE is refused before the new DB is created.
    const p = join(dir, 'missing-import.db');
    const r = cli('import', p, join(dir, 'no-such.jsonl'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FILE ".*no-such\.jsonl" does not exist/);
    expect(existsSync(p)).toBe(false);
    // import into a new db with neither --site nor a genesis line: refused, nothing created.
    const noGenesis = file(lines.filter((l) => !l.includes('"site.genesis"')).join('\n'));
    const r2 = cli('import', p, noGenesis);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/no valid site\.genesis line.*pass --site/);
    expect(existsSync(p)).toBe(false);
  });

  it('a damaged file or a wrong --site: the ledger error and its code, exit 1, no stack trace', async () => {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'not sqlite at all '.repeat(500));
    const commands = ['verify', 'digest', 'heads', 'export'];
    const runs = await Promise.all(commands.map((c) => cliAsync(c, garbage, '--json')));
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'LEDGER_NOT_A_DATABASE' } });
      expect(r.stderr).toContain(garbage);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const imported = cliJson('import', garbage, file(lines.join('\n')));
    expect(imported.code).toBe(1);
    expect(imported.json).toMatchObject({ ok: false, error: { code: 'LEDGER_NOT_A_DATABASE' } });
    expect(readFileSync(garbage, 'utf8')).toBe('not sqlite at all '.repeat(500));
    const wrong = cliJson('heads', source, '--site', 'e'.repeat(64));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    expect(wrong.json).toMatchObject({ ok: false, error: { code: 'LEDGER_WRONG_SITE' } });
  });
});
