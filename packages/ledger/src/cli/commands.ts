// The commands of `keymesh-ledger` (verify, digest, heads, export, import, clear); main.ts runs
// them through the shared scaffold, which maps their errors to exit statuses.
import { statSync } from 'node:fs';
import type { Parsed } from './args.js';
import { EXIT, throttled, UsageError, type Out } from './scaffold.js';
import { Ledger } from '../ledger.js';
import { LedgerError } from '../errors.js';
import { siteOf } from '../site-of.js';
import { genesisSites, importFile, waitingIn } from '../import-file.js';

const NAME = 'keymesh-ledger';

/** A path the command reads must be an existing file: a missing one is not created. */
function mustExist(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('USAGE', `${what} "${path}" does not exist; check the path (this command never creates it).`);
    throw err;
  }
  if (st.isDirectory()) throw new UsageError('USAGE', `${what} "${path}" is a directory; pass the file.`);
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

/** Runs `fn` on the existing ledger file of `args`, opened read-only, and closes it. */
async function withLedger(args: Parsed, fn: (ledger: Ledger) => Promise<number> | number, forensic = false): Promise<number> {
  const ledger = openExisting(args, forensic);
  try {
    return await fn(ledger);
  } finally {
    ledger.close();
  }
}

function verify(args: Parsed, out: Out): Promise<number> {
  // Forensic open: a file with a gap in a feed is examined and reported, not refused.
  return withLedger(args, async (ledger) => {
    const progress = throttled(NAME);
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
      for (const p of problems) await out.write(`${p.author} seq ${p.seq}: ${p.reason}\n`);
      await out.write(problems.length
        ? `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${entries ?? '?'} entries of ${feeds} feeds (${ledger.path})\n`
        : `ok: ${entries} entries in ${feeds} feeds verified, no problems\n`);
    }
    return problems.length ? EXIT.FAILED : EXIT.OK;
  }, true);
}

function digest(args: Parsed, out: Out): Promise<number> {
  return withLedger(args, async (ledger) => {
    const d = ledger.digest();
    await out.write(args.json ? JSON.stringify({ digest: d, site: ledger.site, entries: ledger.count() }) + '\n' : d + '\n');
    return EXIT.OK;
  });
}

function heads(args: Parsed, out: Out): Promise<number> {
  return withLedger(args, async (ledger) => {
    const h = ledger.heads();
    await out.write(args.json ? JSON.stringify({ heads: h }) + '\n' : Object.entries(h).map(([a, s]) => `${a} ${s}\n`).join(''));
    return EXIT.OK;
  });
}

function exportEntries(args: Parsed, out: Out): Promise<number> {
  return withLedger(args, async (ledger) => {
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
    if (count === 0 && args.author) process.stderr.write(`${NAME}: ${ledger.path} holds no entries of author ${args.author}\n`);
    return EXIT.OK;
  });
}

async function importEntries(args: Parsed, out: Out): Promise<number> {
  const db = args.db!;
  const file = args.file!;
  mustExist(file, 'FILE');
  let isDir = false;
  try {
    isDir = statSync(db).isDirectory();
  } catch {
    // does not exist yet: created below
  }
  if (isDir) throw new UsageError('USAGE', `DB "${db}" is a directory; pass a file path.`);
  let site: string | null = null;
  try {
    site = siteOf(db);
  } catch (err) {
    if (!(err instanceof LedgerError && err.code === 'LEDGER_NOT_FOUND')) throw err;
  }
  let siteFrom = 'database';
  if (site === null) {
    if (args.site) (site = args.site), (siteFrom = '--site');
    else {
      const found = await genesisSites(file);
      if (found.length !== 1) {
        throw new UsageError('USAGE', found.length === 0
          ? `${db} is new and ${file} holds no valid site.genesis line, so the site is unknown; pass --site ID.`
          : `${file} holds ${found.length} different genesis entries (lines ${found.map((f) => f.line).join(', ')}); pass --site ID to choose the site.`);
      }
      site = found[0]!.site;
      siteFrom = `genesis at line ${found[0]!.line} of ${file}`;
      process.stderr.write(`${NAME}: new database; site ${site} taken from the genesis at line ${found[0]!.line}\n`);
    }
  }
  const ledger = Ledger.open(db, { site: args.site ?? site });
  try {
    const progress = throttled(NAME);
    const s = await importFile(ledger, file, {
      batch: args.batch,
      onBatch: (x) => progress(() => `import: ${x.lines} lines read, ${x.accepted} accepted, ${x.duplicates} duplicates, ${x.rejected.length} rejected`),
    });
    const waiting = waitingIn(db);
    const d = ledger.digest();
    const failed = s.rejected.length > 0 || s.dropped > 0 || s.forks.length > 0;
    if (args.json) {
      await out.write(JSON.stringify({ ok: !failed, site: ledger.site, siteFrom, lines: s.lines, accepted: s.accepted, duplicates: s.duplicates, waiting, dropped: s.dropped, rejected: s.rejected, forks: s.forks, digest: d }) + '\n');
    } else {
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
    }
    return failed ? EXIT.FAILED : EXIT.OK;
  } finally {
    ledger.close();
  }
}

/** Forgets peers' claims, held entries or the quarantine (Ledger.clear); never a signed feed. */
async function clear(args: Parsed, out: Out): Promise<number> {
  const db = args.db!;
  mustExist(db, 'DB');
  const site = siteOf(db);
  if (site === null) throw new LedgerError('LEDGER_NOT_A_DATABASE', `${db} holds no ledger yet (no site recorded). Check the path.`);
  const ledger = Ledger.open(db, { site: args.site ?? site });
  try {
    const cleared = ledger.clear({ peers: args.peers, pending: args.pending, quarantine: args.quarantine });
    if (args.json) await out.write(JSON.stringify({ ok: true, cleared }) + '\n');
    else {
      const what = [
        args.peers ? `peers' claims  ${cleared.peers}` : '',
        args.pending ? `pending        ${cleared.pending}${args.pending === true ? '' : ` (author ${args.pending})`}` : '',
        args.quarantine ? `quarantine     ${cleared.quarantine}` : '',
      ].filter(Boolean);
      await out.write(`cleared (rows removed)\n${what.map((w) => `  ${w}\n`).join('')}`);
    }
    return EXIT.OK;
  } finally {
    ledger.close();
  }
}

/** Runs the command `args` names. */
export function run(args: Parsed, out: Out): Promise<number> {
  switch (args.command!) {
    case 'verify': return verify(args, out);
    case 'digest': return digest(args, out);
    case 'heads': return heads(args, out);
    case 'export': return exportEntries(args, out);
    case 'import': return importEntries(args, out);
    case 'clear': return clear(args, out);
  }
}
