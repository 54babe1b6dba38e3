// `npm run bench -- blobs`: where should the blob store keep its chunks? Writes and reads
// SIZE MiB of random bytes as 64 KiB chunks keyed by SHA-256, in SQLite BLOB rows (WAL) and as
// one file per chunk (sharded dirs, temp file + rename), under stated fsync policies; then the
// real BlobStore end to end (FastCDC + SHA-256 + verified reads) and its gc.
//
// fsync policies compared:
//   sqlite-normal-batch  WAL, synchronous=NORMAL, one transaction per 64 chunks (4 MiB)
//   sqlite-full-batch    WAL, synchronous=FULL, one transaction per 64 chunks: fsync per commit
//   sqlite-full-each     WAL, synchronous=FULL, one transaction per chunk (peer putChunk case)
//   files-nosync         write temp + rename, no fsync (not crash safe: new files may be empty)
//   files-sync-each      write temp + fsync file + rename, fsync each touched dir per 64 chunks
// Reads are warm (the page cache holds everything: dropping it needs root), by hash lookup.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';

export const describe = 'blob chunk storage: SQLite BLOB rows vs one file per chunk (fsync policies); BlobStore put/get/gc';

const MiB = 1 << 20;
const here = dirname(fileURLToPath(import.meta.url));
const USAGE = `options: --size MiB (default 256)  --chunk KiB (default 64)  --rounds N (default 2, best of N)
         --dir PATH (default bench/tmp/blobs; same disk as the repo)  --only NAME[,NAME] (variants)`;
const BATCH = 64;

function parse(args) {
  const o = { size: 256, chunk: 64, rounds: 2, dir: join(here, '..', 'tmp', 'blobs'), only: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return null;
    if (a === '--size') o.size = Number(args[++i]);
    else if (a === '--chunk') o.chunk = Number(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--dir') o.dir = args[++i];
    else if (a === '--only') o.only = args[++i].split(',');
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (!(o.size > 0) || !(o.chunk > 0) || !(o.rounds > 0)) throw new Error(`--size, --chunk and --rounds need positive numbers\n${USAGE}`);
  return o;
}

const mbps = (bytes, ms) => Math.round(bytes / 1e6 / (ms / 1000));

// ---- SQLite: the layout BlobStore uses (rowid table, hash before data so scans skip overflow pages)
function sqliteVariant(sync, perTx) {
  return {
    open(dir) {
      const db = new Database(join(dir, 'chunks.db'));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync}`);
      db.exec('CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, size INTEGER NOT NULL, data BLOB NOT NULL)');
      const ins = db.prepare('INSERT OR IGNORE INTO c (hash, size, data) VALUES (?, ?, ?)');
      const sel = db.prepare('SELECT data FROM c WHERE hash = ?').pluck();
      const del = db.prepare('DELETE FROM c WHERE hash = ?');
      const writeTx = db.transaction((items) => { for (const [h, b] of items) ins.run(h, b.length, b); });
      const delTx = db.transaction((hs) => { for (const h of hs) del.run(h); });
      return {
        write(chunks, hashes) {
          for (let i = 0; i < chunks.length; i += perTx) {
            const items = [];
            for (let j = i; j < Math.min(i + perTx, chunks.length); j++) items.push([hashes[j], chunks[j]]);
            writeTx(items);
          }
        },
        read(hashes) {
          let n = 0;
          for (const h of hashes) n += sel.get(h).length;
          return n;
        },
        remove(hs) { delTx(hs); },
        close() { db.pragma('wal_checkpoint(TRUNCATE)'); db.close(); },
      };
    },
  };
}

// ---- Files: dir/ab/abcdef... (256 shards), temp file + rename so a reader never sees half a chunk
function filesVariant(fsync) {
  return {
    open(dir) {
      const pathOf = (hex) => join(dir, hex.slice(0, 2), hex);
      for (let i = 0; i < 256; i++) mkdirSync(join(dir, i.toString(16).padStart(2, '0')), { recursive: true });
      const syncDir = (d) => { const fd = openSync(d, 'r'); fsyncSync(fd); closeSync(fd); };
      return {
        write(chunks, hashes) {
          let touched = new Set();
          for (let i = 0; i < chunks.length; i++) {
            const hex = hashes[i].toString('hex');
            const p = pathOf(hex);
            if (existsSync(p)) continue;
            const tmp = `${p}.tmp`;
            const fd = openSync(tmp, 'w');
            writeSync(fd, chunks[i]);
            if (fsync) fsyncSync(fd);
            closeSync(fd);
            renameSync(tmp, p);
            if (fsync) {
              touched.add(dirname(p));
              if ((i + 1) % BATCH === 0 || i === chunks.length - 1) {
                for (const d of touched) syncDir(d);
                touched = new Set();
              }
            }
          }
        },
        read(hashes) {
          let n = 0;
          for (const h of hashes) n += readFileSync(pathOf(h.toString('hex'))).length;
          return n;
        },
        remove(hs) { for (const h of hs) rmSync(pathOf(h.toString('hex'))); },
        close() {},
      };
    },
  };
}

const VARIANTS = {
  'sqlite-normal-batch': sqliteVariant('NORMAL', BATCH),
  'sqlite-full-batch': sqliteVariant('FULL', BATCH),
  'sqlite-full-each': sqliteVariant('FULL', 1),
  'files-nosync': filesVariant(false),
  'files-sync-each': filesVariant(true),
};

async function storeEndToEnd(o, data, log) {
  let mod;
  try {
    mod = await import('../../packages/ledger/dist/blobs/index.js');
  } catch (err) {
    log(`BlobStore not built (${err.message}); skipping the end-to-end figures`);
    return [];
  }
  const out = [];
  const dir = join(o.dir, 'store');
  let putMs = Infinity, getMs = Infinity, gcMs = Infinity, manifest, removed = 0;
  for (let r = 0; r < o.rounds; r++) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const store = mod.BlobStore.open(join(dir, 'blobs.db'));
    let t = performance.now();
    // Fed as a 64 KiB-buffer stream, like fs.createReadStream.
    const src = Readable.from((function* () { for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536); })());
    manifest = await store.put(src);
    putMs = Math.min(putMs, performance.now() - t);
    t = performance.now();
    let n = 0;
    for await (const b of store.get(manifest)) n += b.length;
    getMs = Math.min(getMs, performance.now() - t);
    if (n !== data.length) throw new Error(`BlobStore read back ${n} bytes, expected ${data.length}`);
    store.unpin(manifest);
    t = performance.now();
    removed = store.gc().removedChunks;
    gcMs = Math.min(gcMs, performance.now() - t);
    store.close();
  }
  rmSync(dir, { recursive: true, force: true });
  log(`BlobStore: put ${mbps(data.length, putMs)} MB/s, verified get ${mbps(data.length, getMs)} MB/s, ` +
    `gc of ${removed} chunks ${gcMs.toFixed(0)} ms (${manifest.chunks.length} chunks, FastCDC 16/64/256 KiB)`);
  out.push({ name: 'store_put_mb_s', value: mbps(data.length, putMs), unit: 'MB/s' });
  out.push({ name: 'store_get_verified_mb_s', value: mbps(data.length, getMs), unit: 'MB/s' });
  out.push({ name: 'store_gc_all_ms', value: Math.round(gcMs), unit: 'ms' });
  return out;
}

export async function run(args, log) {
  const o = parse(args);
  if (!o) {
    console.log(USAGE);
    return null;
  }
  const size = o.size * MiB;
  const chunkSize = o.chunk * 1024;
  log(`${o.size} MiB as ${size / chunkSize} chunks of ${o.chunk} KiB, best of ${o.rounds}, in ${o.dir}`);
  const data = randomFillSync(Buffer.allocUnsafe(size));
  const chunks = [];
  const hashes = [];
  for (let i = 0; i < size; i += chunkSize) {
    const c = data.subarray(i, i + chunkSize);
    chunks.push(c);
    hashes.push(createHash('sha256').update(c).digest());
  }
  const metrics = [];
  const names = Object.keys(VARIANTS).filter((n) => !o.only || o.only.includes(n));
  for (const name of names) {
    const v = VARIANTS[name];
    let w = Infinity, rd = Infinity, gc = Infinity;
    for (let r = 0; r < o.rounds; r++) {
      const dir = join(o.dir, name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const s = v.open(dir);
      let t = performance.now();
      s.write(chunks, hashes);
      w = Math.min(w, performance.now() - t);
      t = performance.now();
      const n = s.read(hashes);
      rd = Math.min(rd, performance.now() - t);
      if (n !== size) throw new Error(`${name}: read back ${n} bytes, expected ${size}`);
      // gc-like removal of every other chunk
      t = performance.now();
      s.remove(hashes.filter((_, i) => i % 2 === 0));
      gc = Math.min(gc, performance.now() - t);
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
    log(`${name.padEnd(20)} write ${String(mbps(size, w)).padStart(5)} MB/s  read ${String(mbps(size, rd)).padStart(5)} MB/s  ` +
      `remove half ${gc.toFixed(0)} ms`);
    const key = name.replaceAll('-', '_');
    metrics.push({ name: `${key}_write_mb_s`, value: mbps(size, w), unit: 'MB/s' });
    metrics.push({ name: `${key}_read_mb_s`, value: mbps(size, rd), unit: 'MB/s' });
    metrics.push({ name: `${key}_remove_half_ms`, value: Math.round(gc), unit: 'ms' });
  }
  if (!o.only || o.only.includes('store')) metrics.push(...(await storeEndToEnd(o, data, log)));
  return metrics;
}
