// Chooses the bundle format and the default chunk sizes by measurement (issue 12, DESIGN §8 and
// §12: "a bundle upgrade with 5 % changed content ships under 10 % of the bundle's bytes").
// Called by bench/suites/coordinator.mjs as `bundleUpgrades(args, log)`; returns [{ name, value, unit }].
//
// Real upgrades, each old -> new:
//   project   two commits of this repository (aac2af0~20 -> cce7990) as `git archive` tar, as git
//             writes it (every header stamped with its commit's time) and with mtimes set to 0
//             (what a reproducible release tar does: SOURCE_DATE_EPOCH, `npm pack`);
//             project_1 the same one commit apart (cce7990~1 -> cce7990)
//   npm       typescript 5.9.2 -> 5.9.3 (bench/tmp/*.tgz, fetched by the cdc suite with `npm pack`),
//             as the registry's .tgz and unpacked to .tar
// For each candidate min/avg/max: the share of the new bundle that ships = bytes of the chunks
// the old one lacks, plus the manifest (itself a blob, fetched first). For the chosen default,
// the bytes that cross a bus: BlobServer -> BlobFetcher over a MemoryBroker, every part counted.
// Synthetic: 5 % of 16 MiB of random bytes changed in N places (a quarter of them insertions),
// the ratio per N for each candidate. Chunking is BlobStore.put's (in-memory SQLite).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KiB = 1024;
const MiB = 1 << 20;

export const CANDIDATES = [
  { min: 2 * KiB, avg: 8 * KiB, max: 32 * KiB },
  { min: 4 * KiB, avg: 16 * KiB, max: 64 * KiB },
  { min: 8 * KiB, avg: 32 * KiB, max: 128 * KiB },
  { min: 16 * KiB, avg: 64 * KiB, max: 256 * KiB },
];
const PLACES = [1, 2, 4, 6, 8, 12, 16, 24, 32, 48];
const label = (p) => `${p.min / KiB}_${p.avg / KiB}_${p.max / KiB}`;

function options(args) {
  const o = { project: ['aac2af0~20', 'cce7990'], synthMiB: 16 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--bundle-from') o.project[0] = args[++i];
    else if (a === '--bundle-to') o.project[1] = args[++i];
    else if (a === '--bundle-synth-mib') o.synthMiB = Number(args[++i]);
  }
  return o;
}

/** A tar with every header's mtime set to 0 and its checksum recomputed (pax and data blocks kept). */
export function zeroTarMtimes(tar) {
  const out = Buffer.from(tar);
  let off = 0;
  while (off + 512 <= out.length) {
    const h = out.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    h.write('00000000000\0', 136, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** name -> bytes of every regular file in a tar. */
function tarFiles(tar) {
  const files = new Map();
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, b) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 0x30);
    const name = (str(345, 500) ? str(345, 500) + '/' : '') + str(0, 100);
    if (type === '0' || type === '\0') files.set(name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * How much content changed from one tar to the next, two ways: the bytes of files that are new
 * or differ (a one-line edit counts the whole file), and the bytes of lines that are new (each
 * file's lines against the same file's old lines, as a multiset: a line diff's "added" bytes).
 */
function changedContent(oldTar, newTar) {
  const a = tarFiles(oldTar);
  const b = tarFiles(newTar);
  let files = 0;
  let lines = 0;
  let total = 0;
  for (const [name, bytes] of b) {
    total += bytes.length;
    const before = a.get(name);
    if (before && before.equals(bytes)) continue;
    files += bytes.length;
    const had = new Map();
    if (before) for (const l of before.toString('latin1').split('\n')) had.set(l, (had.get(l) ?? 0) + 1);
    for (const l of bytes.toString('latin1').split('\n')) {
      const n = had.get(l) ?? 0;
      if (n > 0) had.set(l, n - 1);
      else lines += l.length + 1;
    }
  }
  return { files: total ? files / total : 0, lines: total ? lines / total : 0 };
}

function upgrades(o, log) {
  const list = [];
  const git = (rev) => execFileSync('git', ['-C', root, 'archive', '--format=tar', rev], { maxBuffer: 1 << 30 });
  const [from, to] = o.project;
  // Twenty commits apart (the brief's pair), and one commit apart (a small release).
  for (const [name, a0, b0] of [['project', from, to], ['project_1', `${to}~1`, to]]) {
    try {
      const a = git(a0);
      const b = git(b0);
      if (name === 'project') list.push({ name: 'project_git_archive', what: `this repository ${a0} -> ${b0}, git archive tar (headers stamped with the commit time)`, a, b });
      list.push({ name, what: `this repository ${a0} -> ${b0}, git archive tar with mtimes 0`, a: zeroTarMtimes(a), b: zeroTarMtimes(b), real: true });
    } catch (err) {
      log(`bundles: git archive ${a0} ${b0} failed (${err.message.split('\n')[0]}); that upgrade is left out`);
    }
  }
  const tgz = ['5.9.2', '5.9.3'].map((v) => join(root, 'bench', 'tmp', `typescript-${v}.tgz`));
  if (tgz.every((f) => existsSync(f))) {
    const [a, b] = tgz.map((f) => readFileSync(f));
    list.push({ name: 'npm_tgz', what: 'typescript 5.9.2 -> 5.9.3 as the registry .tgz (gzip)', a, b });
    list.push({ name: 'npm', what: 'typescript 5.9.2 -> 5.9.3 unpacked to .tar', a: gunzipSync(a), b: gunzipSync(b), real: true });
  } else {
    log('bundles: bench/tmp/typescript-5.9.{2,3}.tgz missing (run `npm run bench -- cdc` once, which fetches them); the npm upgrade is left out');
  }
  return list;
}

/** Ratio of the new blob that ships when the old one is held: new chunks plus the manifest's canonical bytes. */
async function shipRatio(BlobStore, params, a, b) {
  const { manifestDiff, encodeManifest } = await import('../../packages/protocol/dist/index.js');
  const s = BlobStore.open(':memory:', { chunking: params });
  try {
    const m1 = await s.put(a);
    const t0 = performance.now();
    const m2 = await s.put(b);
    const putMs = performance.now() - t0;
    const d = manifestDiff(m1, m2);
    const manifestBytes = Buffer.byteLength(encodeManifest(m2));
    return { chunks: d.bytes / b.length, withManifest: (d.bytes + manifestBytes) / b.length, manifestBytes, nChunks: m2.chunks.length, putMs };
  } finally {
    s.close();
  }
}

/** The byte ranges of a tar's members (header blocks and data), in order; the end blocks last. */
function tarMembers(tar) {
  const out = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const end = off + 512 + Math.ceil(size / 512) * 512;
    out.push(tar.subarray(off, end));
    off = end;
  }
  if (off < tar.length) out.push(tar.subarray(off));
  return out;
}

/**
 * What-if, not a product path: cuts at every tar member's start as well as where FastCDC cuts
 * inside it (a chunker that knows the format), so an edit never moves a neighbour's chunk.
 * Ratio of the new tar that ships (chunks plus a manifest of 89 bytes a chunk).
 */
async function fileAlignedRatio(params, a, b) {
  const { chunkLengths } = await import('../../packages/cdc-native/dist/index.js');
  const { createHash } = await import('node:crypto');
  const hashes = (tar) => {
    const out = [];
    for (const m of tarMembers(tar)) {
      let at = 0;
      for (const n of chunkLengths(m, params)) {
        const c = m.subarray(at, at + n);
        out.push({ h: createHash('sha256').update(c).digest('hex'), n });
        at += n;
      }
    }
    return out;
  };
  const old = new Set(hashes(a).map((c) => c.h));
  const next = hashes(b);
  const seen = new Set();
  let ship = 0;
  for (const c of next) {
    if (old.has(c.h) || seen.has(c.h)) continue;
    seen.add(c.h);
    ship += c.n;
  }
  return (ship + 89 * next.length) / b.length;
}

/** Bytes of parts that cross the bus when a node holding `a` fetches `b`, over b's size. */
async function wireRatio(params, a, b) {
  const { BlobStore, BlobServer, BlobFetcher } = await import('../../packages/ledger/dist/index.js');
  const { manifestId } = await import('../../packages/protocol/dist/index.js');
  const { MemoryBroker, testKey } = await import('../../packages/testkit/dist/index.js');
  const broker = new MemoryBroker({ auto: true, maxPayloadBytes: 65_536 });
  const site = '00'.repeat(32);
  const src = testKey(1).publicKey;
  const dst = testKey(2).publicKey;
  const coordinator = BlobStore.open(':memory:', { chunking: params });
  const edge = BlobStore.open(':memory:', { chunking: params });
  const server = new BlobServer({ bus: broker.client(src), site, self: src, store: coordinator });
  const fetcher = new BlobFetcher({ bus: broker.client(dst), site, self: dst, store: edge });
  let bytes = 0;
  broker.onPublish((p) => { if (p.topic.includes('/put/')) bytes += p.payload.length; });
  try {
    await server.start();
    await fetcher.start();
    const m1 = await coordinator.put(a);
    await fetcher.fetch(manifestId(m1), src);
    const first = bytes / a.length;
    const m2 = await coordinator.put(b);
    bytes = 0;
    const r = await fetcher.fetch(manifestId(m2), src);
    if (!(await edge.getBytes(r.manifest)).equals(b)) throw new Error('the fetched bundle does not read back');
    return { upgrade: bytes / b.length, first };
  } finally {
    await fetcher.stop();
    await server.stop();
    broker.close();
    coordinator.close();
    edge.close();
  }
}

/** 5 % of `base` changed in `n` places spread over it, one in four an insertion, the rest rewrites. */
function edited(base, n, rand) {
  const edit = Math.max(1, Math.floor((0.05 * base.length) / n));
  const parts = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const start = Math.floor(((i + 0.5) / n) * base.length - edit / 2);
    parts.push(base.subarray(at, start));
    parts.push(rand(edit));
    at = i % 4 === 3 ? start : start + edit; // an insertion keeps what it lands before
  }
  parts.push(base.subarray(at));
  return Buffer.concat(parts);
}

function prng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      words[i] = x >>> 0;
    }
    return Buffer.from(words.buffer, 0, n);
  };
}

export async function bundleUpgrades(args, log) {
  const o = options(args);
  const { BlobStore } = await import('../../packages/ledger/dist/index.js');
  const { BUNDLE_CHUNKING } = await import('../../packages/coordinator/dist/bundles/chunking.js');
  const metrics = [];
  const put = (name, value, unit) => metrics.push({ name, value: unit === 'ratio' ? +value.toFixed(4) : value, unit });

  for (const u of upgrades(o, log)) {
    const changed = changedContent(tarOrEmpty(u.a), tarOrEmpty(u.b));
    if (u.real) {
      put(`bundle_${u.name}_changed_lines_ratio`, changed.lines, 'ratio');
      put(`bundle_${u.name}_changed_files_ratio`, changed.files, 'ratio');
    }
    log(`bundles: ${u.what}: ${(u.a.length / MiB).toFixed(2)} -> ${(u.b.length / MiB).toFixed(2)} MiB${u.real ? `; changed: ${(100 * changed.lines).toFixed(1)} % of its bytes in new lines, ${(100 * changed.files).toFixed(1)} % in files that differ` : ''}`);
    for (const p of CANDIDATES) {
      const r = await shipRatio(BlobStore, p, u.a, u.b);
      put(`bundle_${u.name}_ratio_${label(p)}`, r.withManifest, 'ratio');
      if (u.real) {
        const fa = await fileAlignedRatio(p, u.a, u.b);
        put(`bundle_${u.name}_file_aligned_ratio_${label(p)}`, fa, 'ratio');
        r.fileAligned = fa;
      }
      log(`  ${label(p).replaceAll('_', '/')} KiB: ships ${(100 * r.withManifest).toFixed(2)} % (${(100 * r.chunks).toFixed(2)} % chunks + manifest ${r.manifestBytes} bytes, ${r.nChunks} chunks; its put ${r.putMs.toFixed(0)} ms in memory)${r.fileAligned === undefined ? '' : `; cut at files too (what-if): ${(100 * r.fileAligned).toFixed(2)} %`}`);
    }
  }

  // The chosen default, over a bus, every part counted: the figure DESIGN §12 judges.
  const real = upgrades(o, () => undefined).filter((u) => u.real);
  let worst = 0;
  for (const u of real) {
    const { upgrade, first } = await wireRatio(BUNDLE_CHUNKING, u.a, u.b);
    worst = Math.max(worst, upgrade);
    put(`bundle_upgrade_shipped_ratio_${u.name}`, upgrade, 'ratio');
    put(`bundle_first_install_wire_ratio_${u.name}`, first, 'ratio');
    log(`bundles: ${u.name} over a bus with the default ${label(BUNDLE_CHUNKING).replaceAll('_', '/')} KiB: the upgrade put ${(100 * upgrade).toFixed(2)} % of the new bundle's bytes on the wire (parts with their headers, the manifest included); the first install ${(100 * first).toFixed(2)} % of the old one's`);
  }
  if (real.length) put('bundle_upgrade_shipped_ratio', worst, 'ratio');

  const rand = prng(12);
  const base = rand(o.synthMiB * MiB);
  for (const p of CANDIDATES) {
    const s = BlobStore.open(':memory:', { chunking: p });
    try {
      const { manifestDiff } = await import('../../packages/protocol/dist/index.js');
      const m1 = await s.put(base);
      const row = [];
      let maxPlaces = 0;
      let holding = true;
      for (const n of PLACES) {
        const m2 = await s.put(edited(base, n, rand));
        const ratio = manifestDiff(m1, m2).bytes / m2.size;
        put(`bundle_synthetic_5pct_${n}_places_${label(p)}`, ratio, 'ratio');
        holding &&= ratio < 0.1; // the most places up to which every count stays under 10 %
        if (holding) maxPlaces = n;
        row.push(`${n}: ${(100 * ratio).toFixed(1)} %`);
      }
      put(`bundle_synthetic_5pct_max_places_under_10pct_${label(p)}`, maxPlaces, 'places');
      log(`bundles: synthetic ${o.synthMiB} MiB, 5 % changed, ${label(p).replaceAll('_', '/')} KiB, places -> shipped: ${row.join(', ')}`);
    } finally {
      s.close();
    }
  }
  return metrics;
}

/** The bytes as a tar to compare files in, or an empty one for a .tgz (its content is not read). */
function tarOrEmpty(b) {
  return b[0] === 0x1f && b[1] === 0x8b ? Buffer.alloc(0) : b;
}
