// `keymesh-ledger <verify|digest|heads|export|import|clear> DB ...`: operator and forensics tool for
// a ledger database. Exit 0 ok, 1 problems found or a runtime error (damaged file, wrong site),
// 2 usage error (bad arguments, DB or FILE that does not exist). See USAGE in cli-args.ts.
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { KeymeshError } from '@keymesh/protocol';
import { parseArgs, USAGE, UsageError, type Parsed } from './cli-args.js';
import { Ledger } from './ledger.js';
import { LedgerError } from './errors.js';
import { siteOf } from './site-of.js';
import { genesisSites, importFile, waitingIn } from './import-file.js';

const PROGRESS_MS = 2000;

/** Writes to stdout, waiting when the pipe is full (exports can be large). */
class Out {
  private buf = '';
  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length > 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    const b = this.buf;
    this.buf = '';
    if (b && !process.stdout.write(b)) await once(process.stdout, 'drain');
  }
}

/** A progress line on stderr at most every PROGRESS_MS, starting PROGRESS_MS after the start. */
function throttled(): (line: () => string) => void {
  let last = Date.now();
  return (line) => {
    const now = Date.now();
    if (now - last < PROGRESS_MS) return;
    last = now;
    process.stderr.write(`keymesh-ledger: ${line()}\n`);
  };
}

/** A path the command reads must be an existing file: a missing one is not created. */
function mustExist(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${what} "${path}" does not exist; check the path (this command never creates it).`);
    throw err;
  }
  if (st.isDirectory()) throw new UsageError(`${what} "${path}" is a directory; pass the file.`);
}

/** Opens an existing ledger file with the site it records (and checks --site against it). */
function openExisting(args: Parsed, forensic = false): Ledger {
  const db = args.db!;
  mustExist(db, 'DB');
  const site = siteOf(db);
  if (site === null) {
    throw new LedgerError('LEDGER_NOT_A_DATABASE', `${db} holds no ledger yet (no site recorded). Check the path.`);
  }
  // Read only: these commands examine a file (often evidence) and must not change it.
  return Ledger.open(db, { site: args.site ?? site, forensic, readonly: true });
}

async function verify(args: Parsed): Promise<number> {
  // Forensic open: a file with a gap in a feed is examined and reported, not refused.
  const ledger = openExisting(args, true);
  try {
    const progress = throttled();
    const problems = ledger.verify((done, total) => progress(() => `verify: ${done} of ${total} entries checked`));
    // A damaged page can make the entries uncountable (null); the problems say what is damaged.
    let entries: number | null = null;
    try {
      entries = ledger.count();
    } catch {
      // reported by verify() as a problem of the file
    }
    const feeds = Object.keys(ledger.heads()).length;
    if (args.json) {
      process.stdout.write(JSON.stringify({ ok: problems.length === 0, entries, feeds, problems }) + '\n');
    } else {
      const out = new Out();
      for (const p of problems) await out.write(`${p.author} seq ${p.seq}: ${p.reason}\n`);
      await out.write(problems.length
        ? `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${entries ?? '?'} entries of ${feeds} feeds (${ledger.path})\n`
        : `ok: ${entries} entries in ${feeds} feeds verified, no problems\n`);
      await out.flush();
    }
    return problems.length ? 1 : 0;
  } finally {
    ledger.close();
  }
}

function digest(args: Parsed): number {
  const ledger = openExisting(args);
  try {
    const d = ledger.digest();
    process.stdout.write(args.json ? JSON.stringify({ digest: d, site: ledger.site, entries: ledger.count() }) + '\n' : d + '\n');
    return 0;
  } finally {
    ledger.close();
  }
}

function heads(args: Parsed): number {
  const ledger = openExisting(args);
  try {
    const h = ledger.heads();
    process.stdout.write(args.json ? JSON.stringify({ heads: h }) + '\n' : Object.entries(h).map(([a, s]) => `${a} ${s}\n`).join(''));
    return 0;
  } finally {
    ledger.close();
  }
}

async function exportEntries(args: Parsed): Promise<number> {
  const ledger = openExisting(args);
  try {
    const out = new Out();
    let count = 0;
    if (args.json) await out.write('{"entries":[');
    for (const line of ledger.iterateEncoded(args.author)) {
      await out.write(args.json ? (count ? ',\n' : '\n') + line : line + '\n');
      count++;
    }
    // Fork proofs after the feeds: an import then holds the same forks (and trusts the same entries).
    const proofs = ledger.forkProofs(args.author);
    for (const line of proofs) {
      await out.write(args.json ? (count ? ',\n' : '\n') + line : line + '\n');
      count++;
    }
    if (args.json) await out.write(`\n],"count":${count},"forkProofs":${proofs.length}}\n`);
    await out.flush();
    if (count === 0 && args.author) process.stderr.write(`keymesh-ledger: ${ledger.path} holds no entries of author ${args.author}\n`);
    return 0;
  } finally {
    ledger.close();
  }
}

async function importEntries(args: Parsed): Promise<number> {
  const db = args.db!;
  const file = args.file!;
  mustExist(file, 'FILE');
  let isDir = false;
  try {
    isDir = statSync(db).isDirectory();
  } catch {
    // does not exist yet: created below
  }
  if (isDir) throw new UsageError(`DB "${db}" is a directory; pass a file path.`);
  let site: string | null = null;
  try {
    site = siteOf(db);
  } catch (err) {
    if (!(err instanceof LedgerError && /does not exist/.test(err.message))) throw err;
  }
  let siteFrom = 'database';
  if (site === null) {
    if (args.site) (site = args.site), (siteFrom = '--site');
    else {
      const found = await genesisSites(file);
      if (found.length !== 1) {
        throw new UsageError(found.length === 0
          ? `${db} is new and ${file} holds no valid site.genesis line, so the site is unknown; pass --site ID.`
          : `${file} holds ${found.length} different genesis entries (lines ${found.map((f) => f.line).join(', ')}); pass --site ID to choose the site.`);
      }
      site = found[0]!.site;
      siteFrom = `genesis at line ${found[0]!.line} of ${file}`;
      process.stderr.write(`keymesh-ledger: new database; site ${site} taken from the genesis at line ${found[0]!.line}\n`);
    }
  }
  const ledger = Ledger.open(db, { site: args.site ?? site });
  try {
    const progress = throttled();
    const s = await importFile(ledger, file, {
      batch: args.batch,
      onBatch: (x) => progress(() => `import: ${x.lines} lines read, ${x.accepted} accepted, ${x.duplicates} duplicates, ${x.rejected.length} rejected`),
    });
    const waiting = waitingIn(db);
    const d = ledger.digest();
    const failed = s.rejected.length > 0 || s.dropped > 0 || s.forks.length > 0;
    if (args.json) {
      process.stdout.write(JSON.stringify({ ok: !failed, site: ledger.site, siteFrom, lines: s.lines, accepted: s.accepted, duplicates: s.duplicates, waiting, dropped: s.dropped, rejected: s.rejected, forks: s.forks, digest: d }) + '\n');
    } else {
      const out = new Out();
      await out.write(`site        ${ledger.site}\nlines       ${s.lines}\naccepted    ${s.accepted}\nduplicates  ${s.duplicates}\n`);
      await out.write(`waiting     ${waiting}${waiting ? " (stored in the database until their predecessor, or their key's authority, arrives)" : ''}\n`);
      if (s.dropped) await out.write(`dropped     ${s.dropped} (not kept: the entries held for later were at their bounds, most likely keys without authority; import them again once their author has authority or the entries before them are in)\n`);
      await out.write(`rejected    ${s.rejected.length}\n`);
      for (const r of s.rejected) {
        await out.write(`  line ${r.line ?? '?'}: ${r.author ?? '(unknown author)'} seq ${r.seq ?? '?'} ${r.code}: ${r.reason}\n`);
      }
      await out.write(`forks       ${s.forks.length}\n`);
      for (const f of s.forks) await out.write(`  ${f.author} seq ${f.seq}: two different signed entries (kept as proof; an admin must act)\n`);
      await out.write(`digest      ${d}\n`);
      await out.flush();
    }
    return failed ? 1 : 0;
  } finally {
    ledger.close();
  }
}

/** Forgets peers' claims, held entries or the quarantine (Ledger.clear); never a signed feed. */
function clear(args: Parsed): number {
  const db = args.db!;
  mustExist(db, 'DB');
  const site = siteOf(db);
  if (site === null) throw new LedgerError('LEDGER_NOT_A_DATABASE', `${db} holds no ledger yet (no site recorded). Check the path.`);
  const ledger = Ledger.open(db, { site: args.site ?? site });
  try {
    const cleared = ledger.clear({ peers: args.peers, pending: args.pending, quarantine: args.quarantine });
    if (args.json) process.stdout.write(JSON.stringify({ ok: true, cleared }) + '\n');
    else {
      const what = [
        args.peers ? `peers' claims  ${cleared.peers}` : '',
        args.pending ? `pending        ${cleared.pending}${args.pending === true ? '' : ` (author ${args.pending})`}` : '',
        args.quarantine ? `quarantine     ${cleared.quarantine}` : '',
      ].filter(Boolean);
      process.stdout.write(`cleared (rows removed)\n${what.map((w) => `  ${w}\n`).join('')}`);
    }
    return 0;
  } finally {
    ledger.close();
  }
}

function fail(json: boolean, code: string, message: string): void {
  process.stderr.write(`keymesh-ledger: ${message}\n`);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { code, message } }) + '\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // `keymesh-ledger export DB | head`: the reader left; stop quietly.
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let args: Parsed;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    fail(argv.includes('--json'), 'USAGE', err.message);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE[args.command ?? 'main'] + '\n');
    return 0;
  }
  try {
    switch (args.command!) {
      case 'verify': return await verify(args);
      case 'digest': return digest(args);
      case 'heads': return heads(args);
      case 'export': return await exportEntries(args);
      case 'import': return await importEntries(args);
      case 'clear': return clear(args);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      fail(args.json, 'USAGE', err.message);
      return 2;
    }
    if (err instanceof KeymeshError) {
      fail(args.json, err.code, err.message);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    fail(args.json, e.code ?? 'ERROR', e.code === 'EACCES' ? `${e.message}; check the file's permissions.` : e.message);
    return 1;
  }
}
