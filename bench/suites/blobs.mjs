// `npm run bench -- blobs`: the blob store as the product runs it. BlobStore.put of SIZE MiB of
// new random bytes (FastCDC, SHA-256 of each chunk and of the blob, SQLite FULL), its verified
// get and its gc; and what an upgrade changing 5 % of a 16 MiB bundle ships between two stores
// (put + missing(), the DESIGN §12 budget).
//
// `--layouts` also runs the measurement that chose SQLite rows over one file per chunk: SIZE MiB
// as 64 KiB chunks keyed by SHA-256, written, read and half deleted under stated fsync policies:
//   sqlite-normal-batch  WAL, synchronous=NORMAL, one transaction per 64 chunks (4 MiB)
//   sqlite-full-batch    WAL, synchronous=FULL, one transaction per 64 chunks: fsync per commit
//   sqlite-full-each     WAL, synchronous=FULL, one transaction per chunk (peer putChunk case)
//   files-nosync         write temp + rename, no fsync (not crash safe: new files may be empty)
//   files-sync-each      write temp + fsync file + rename, fsync each touched dir per 64 chunks
// Reads are warm (the page cache holds everything: dropping it needs root), by hash lookup.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import os from 'node:os';
import Database from 'better-sqlite3';
import { codeVersion, recordRun } from '../lib/results-md.mjs';

export const describe = 'BlobStore put/get/gc and a 5% upgrade; --layouts: SQLite rows vs one file per chunk';

const MiB = 1 << 20;
const here = dirname(fileURLToPath(import.meta.url));
const USAGE = `options: --size MiB (default 256)  --rounds N (default 2, best of N)
         --dir PATH (default bench/tmp/blobs; same disk as the repo)
         --layouts (also the layout comparison)  --chunk KiB (its chunks, default 64)  --only NAME[,NAME] (its variants)`;
const BATCH = 64;

function parse(args) {
  const o = { size: 256, chunk: 64, rounds: 2, dir: join(here, '..', 'tmp', 'blobs'), only: null, layouts: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return null;
    if (a === '--size') o.size = Number(args[++i]);
    else if (a === '--chunk') o.chunk = Number(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--dir') o.dir = args[++i];
    else if (a === '--only') o.only = args[++i].split(',');
    else if (a === '--layouts') o.layouts = true;
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
  const mod = await import('../../packages/ledger/dist/blobs/index.js');
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

/** The DESIGN §12 upgrade: 5 % of a 16 MiB bundle changed in 4 places (3 rewritten, 1 inserted). */
async function upgrade5pct(o, log) {
  const { BlobStore } = await import('../../packages/ledger/dist/blobs/index.js');
  const size = 16 * MiB;
  const v1 = randomFillSync(Buffer.allocUnsafe(size));
  const edit = Math.floor((0.05 * size) / 4);
  const v2 = Buffer.from(v1);
  for (const at of [0.1, 0.35, 0.85]) randomFillSync(v2, Math.floor(at * size), edit);
  const cut = Math.floor(0.6 * size);
  const upgraded = Buffer.concat([v2.subarray(0, cut), randomFillSync(Buffer.alloc(edit)), v2.subarray(cut)]);
  const dir = join(o.dir, 'upgrade');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const coordinator = BlobStore.open(join(dir, 'coordinator.db'));
  const pi = BlobStore.open(join(dir, 'pi.db'));
  try {
    const ship = (need) => {
      let bytes = 0;
      for (const c of need) {
        pi.putChunk(c.hash, coordinator.getChunk(c.hash));
        bytes += c.size;
      }
      return bytes;
    };
    const m1 = await coordinator.put(v1);
    pi.pin(m1);
    ship(pi.missing(m1));
    const m2 = await coordinator.put(upgraded);
    pi.pin(m2);
    const shipped = ship(pi.missing(m2));
    if (!(await pi.getBytes(m2)).equals(upgraded)) throw new Error('the upgraded blob did not read back');
    const ratio = shipped / m2.size;
    log(`upgrade changing 5% in 4 places: shipped ${shipped} of ${m2.size} bytes (${(100 * ratio).toFixed(2)}%)`);
    return [{ name: 'upgrade_5pct_shipped_pct', value: +(100 * ratio).toFixed(2), unit: '%' }];
  } finally {
    coordinator.close();
    pi.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function layouts(o, data, log) {
  const size = data.length;
  const chunkSize = o.chunk * 1024;
  log(`layouts: ${o.size} MiB as ${size / chunkSize} chunks of ${o.chunk} KiB, best of ${o.rounds}, in ${o.dir}`);
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
    metrics.push({ name: `layout_${key}_write_mb_s`, value: mbps(size, w), unit: 'MB/s' });
    metrics.push({ name: `layout_${key}_read_mb_s`, value: mbps(size, rd), unit: 'MB/s' });
    metrics.push({ name: `layout_${key}_remove_half_ms`, value: Math.round(gc), unit: 'ms' });
  }
  return metrics;
}

export async function run(args, log) {
  const o = parse(args);
  if (!o) {
    console.log(USAGE);
    return null;
  }
  const started = new Date();
  const code = codeVersion();
  const loadStart = os.loadavg()[0];
  const data = randomFillSync(Buffer.allocUnsafe(o.size * MiB));
  const metrics = [];
  if (o.layouts) metrics.push(...layouts(o, data, log));
  metrics.push(...(await storeEndToEnd(o, data, log)));
  metrics.push(...(await upgrade5pct(o, log)));
  if (o.size === 256) {
    const v = Object.fromEntries(metrics.map((m) => [m.name, m]));
    const row = (name, what, budget) => (v[name] ? [{ ...v[name], what, budget }] : []);
    recordRun('blobs', {
      command: 'npm run bench -- blobs', started, code,
      rows: [
        ...row('store_put_mb_s', `\`BlobStore.put\` of ${o.size} MiB of new random bytes as 64 KiB buffers: FastCDC 16/64/256 KiB, SHA-256 of each chunk and of the blob, SQLite WAL \`synchronous=FULL\`, 4 MiB transactions; best of ${o.rounds}`),
        ...row('store_get_verified_mb_s', '`BlobStore.get` of it as a stream, re-hashing every chunk and the whole (warm page cache)'),
        ...row('store_gc_all_ms', '`gc()` removing all its chunks after `unpin`'),
        ...row('upgrade_5pct_shipped_pct', 'a 16 MiB bundle with 5 % of its bytes changed in 4 places (3 rewritten, 1 insertion): bytes of the chunks `missing()` lists on a node holding the old one, over the new size', { op: '<=', limit: 10, text: 'under 10 % of the bundle' }),
      ],
      notes: [
        `Load average (1 min, ${os.cpus().length} vCPUs): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end. Files in \`${relative(join(here, '..', '..'), o.dir)}\`.`,
      ],
    });
    log('wrote the recorded run into bench/RESULTS.md (blobs section)');
  }
  return metrics;
}
