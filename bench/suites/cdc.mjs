// `npm run bench -- cdc`: FastCDC throughput of the C addon and the TypeScript fallback, with
// rabin-wasm (the chunker IPFS used) and a plain buffer copy (the memory-bandwidth ceiling) for
// scale, on 256 MiB of random bytes and on two consecutive versions of a real npm tarball; then
// chunking + SHA-256 as the product does it, through BlobStore.put (cut, SHA-256 of every chunk
// and of the whole blob, on its two threads); and the bytes an upgrade between the two versions
// would ship.
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import { chunk, chunkLengths, implementation, nativeAvailable } from '@keymesh/cdc-native';
import { codeVersion, recordRun } from '../lib/results-md.mjs';

export const describe = 'FastCDC native and TS fallback (rabin-wasm and memcpy for scale); chunk+SHA-256 through BlobStore.put; upgrade dedup';

const MiB = 1 << 20;
const here = dirname(fileURLToPath(import.meta.url));
const tmp = join(here, '..', 'tmp');
const USAGE = `options: --size MiB (default 256)  --rounds N (default 3, best of N)
         --corpus NAME@V1,NAME@V2 (default typescript@5.9.2,typescript@5.9.3)`;

/** DESIGN.md §8 sizes: what the blob store will use. */
const PARAMS = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024, level: 1 };

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

/** Best of `rounds` timings of fn (ms). */
function best(rounds, fn) {
  let min = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

function parse(args) {
  const o = { size: 256, rounds: 3, corpus: 'typescript@5.9.2,typescript@5.9.3' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return null;
    if (a === '--size') o.size = Number(args[++i]);
    else if (a === '--rounds') o.rounds = Number(args[++i]);
    else if (a === '--corpus') o.corpus = args[++i];
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (!(o.size > 0) || !(o.rounds > 0)) throw new Error(`--size and --rounds need positive numbers\n${USAGE}`);
  return o;
}

async function rabinChunker() {
  const require = createRequire(import.meta.url);
  const rabin = require('rabin-wasm');
  // IPFS's rabin defaults: 64-bit polynomial 17437180132763653, window 16; sizes as ours.
  return rabin.create(Math.log2(PARAMS.avg), PARAMS.min, PARAMS.max, 16, 17437180132763653);
}

/** rabin-wasm copies its input into wasm memory; feed it 16 MiB at a time, as a stream would. */
function rabinAll(r, data) {
  let n = 0;
  for (let o = 0; o < data.length; o += 16 * MiB) n += r.fingerprint(data.subarray(o, o + 16 * MiB)).length;
  return n;
}

/**
 * Chunk + SHA-256 as the product runs it: BlobStore.put of a blob whose chunks are all stored
 * already, fed as 64 KiB buffers like a file stream. put() then cuts, hashes every chunk and the
 * whole blob, and looks each chunk up, but writes nothing: the figure is the chunk + hash path,
 * not the disk (the blobs suite measures puts of new bytes). Best of `rounds`; also MB per
 * CPU-second of the process (both threads), which the other agents on a shared VM do not move.
 */
async function putChunkSha256(data, rounds, log) {
  const { BlobStore } = await import('../../packages/ledger/dist/blobs/index.js');
  const dir = join(tmp, 'cdc-put');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = BlobStore.open(join(dir, 'blobs.db'), { chunking: PARAMS, synchronous: 'normal' });
  const stream = () => (function* () { for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536); })();
  try {
    const first = await store.put(stream()); // stores every chunk, starts the hashing thread
    let ms = Infinity;
    let cpuMs = Infinity;
    for (let r = 0; r < rounds; r++) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      const m = await store.put(stream());
      const wall = performance.now() - t;
      const c = process.cpuUsage(c0);
      if (m.hash !== first.hash || m.chunks.length !== first.chunks.length) throw new Error('BlobStore.put gave a different manifest for the same bytes');
      ms = Math.min(ms, wall);
      cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
    }
    const one = chunk(data, { ...PARAMS, impl: 'native', hash: true });
    if (one.length !== first.chunks.length || one.some((c, i) => Buffer.from(c.hash).toString('hex') !== first.chunks[i].hash)) {
      throw new Error('BlobStore.put and the one-shot chunk() disagree on the chunks');
    }
    log(`BlobStore.put (chunks already stored): ${mbps(data.length, ms).toFixed(0)} MB/s, ${mbps(data.length, cpuMs).toFixed(0)} MB per CPU-second, ${first.chunks.length} chunks`);
    return { ms, cpuMs };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function npmTarball(spec) {
  mkdirSync(tmp, { recursive: true });
  const name = spec.replace(/^@/, '').replace('/', '-').replace('@', '-') + '.tgz';
  const file = join(tmp, name);
  if (!existsSync(file)) {
    const out = execFileSync('npm', ['pack', spec, '--pack-destination', tmp, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
    if (out !== name && existsSync(join(tmp, out))) return readFileSync(join(tmp, out));
  }
  return readFileSync(file);
}

function uniqueBytes(chunks, known) {
  let shipped = 0;
  const seen = new Set(known);
  for (const c of chunks) {
    const key = Buffer.from(c.hash).toString('hex');
    if (!seen.has(key)) {
      shipped += c.length;
      seen.add(key);
    }
  }
  return shipped;
}

export async function run(args, log) {
  const o = parse(args);
  if (o === null) {
    console.log(USAGE);
    return undefined;
  }
  if (!nativeAvailable || implementation !== 'native') {
    throw new Error('the native addon did not load; build it (npm rebuild @keymesh/cdc-native) before benchmarking');
  }
  const started = new Date();
  const code = codeVersion();
  const loadStart = os.loadavg()[0];
  const size = o.size * MiB;
  log(`params ${JSON.stringify(PARAMS)}, ${o.size} MiB random, best of ${o.rounds}`);
  const shared = new SharedArrayBuffer(size);
  const data = new Uint8Array(shared);
  for (let p = 0; p < size; p += 64 * MiB) randomFillSync(data, p, Math.min(64 * MiB, size - p));
  const dest = new Uint8Array(size).fill(1); // touch every page before timing copies into it

  // Warm up each path once on a slice, then interleave the timed rounds.
  const warm = data.subarray(0, 16 * MiB);
  chunkLengths(warm, { ...PARAMS, impl: 'native' });
  chunkLengths(warm, { ...PARAMS, impl: 'ts' });
  const times = { copy: Infinity, set: Infinity, native: Infinity, ts: Infinity };
  let nativeCount = 0;
  let tsCount = 0;
  for (let r = 0; r < o.rounds; r++) {
    times.copy = Math.min(times.copy, best(2, () => Buffer.from(shared).copy(dest)));
    times.set = Math.min(times.set, best(2, () => dest.set(data)));
    times.native = Math.min(times.native, best(1, () => { nativeCount = chunkLengths(data, { ...PARAMS, impl: 'native' }).length; }));
    times.ts = Math.min(times.ts, best(1, () => { tsCount = chunkLengths(data, { ...PARAMS, impl: 'ts' }).length; }));
  }
  if (nativeCount !== tsCount) throw new Error(`native (${nativeCount}) and ts (${tsCount}) disagree on the chunk count`);
  const copyMs = Math.min(times.copy, times.set);
  const copy = mbps(size, copyMs);
  const native = mbps(size, times.native);
  const ts = mbps(size, times.ts);
  log(`copy ${copy.toFixed(0)} MB/s (Buffer.copy ${mbps(size, times.copy).toFixed(0)}, set ${mbps(size, times.set).toFixed(0)})`);
  log(`native ${native.toFixed(0)} MB/s, ts ${ts.toFixed(0)} MB/s, ${nativeCount} chunks (mean ${(size / nativeCount / 1024).toFixed(1)} KiB)`);

  const rabin = await rabinChunker();
  rabinAll(rabin, warm);
  let rabinCount = 0;
  const rabinMs = best(Math.min(2, o.rounds), () => { rabinCount = rabinAll(rabin, data); });
  const rabinMbps = mbps(size, rabinMs);
  log(`rabin-wasm ${rabinMbps.toFixed(0)} MB/s, ${rabinCount} chunks`);

  // Chunk + SHA-256 as the blob store does it.
  const put = await putChunkSha256(data, o.rounds, log);
  const shaOnly = mbps(size, best(1, () => createHash('sha256').update(data).digest()));
  log(`(sha256 alone, one stream: ${shaOnly.toFixed(0)} MB/s)`);

  // Real corpus: two consecutive versions of an npm package, as uncompressed tar (compressed
  // tarballs share almost nothing byte-wise, so a bundle store would keep them as .tar).
  const [specOld, specNew] = o.corpus.split(',');
  let corpus = null;
  try {
    const oldTar = gunzipSync(npmTarball(specOld));
    const newTar = gunzipSync(npmTarball(specNew));
    corpus = { oldTar, newTar };
  } catch (err) {
    log(`corpus skipped: could not npm pack ${o.corpus} (${err.message.split('\n')[0]})`);
  }
  const metrics = [
    { name: 'native_mb_s', value: Math.round(native), unit: 'MB/s' },
    { name: 'ts_mb_s', value: Math.round(ts), unit: 'MB/s' },
    { name: 'rabin_wasm_mb_s', value: Math.round(rabinMbps), unit: 'MB/s' },
    { name: 'copy_mb_s', value: Math.round(copy), unit: 'MB/s' },
    { name: 'native_vs_copy', value: +(native / copy).toFixed(3), unit: 'ratio' },
    { name: 'ts_vs_copy', value: +(ts / copy).toFixed(3), unit: 'ratio' },
    { name: 'rabin_wasm_vs_copy', value: +(rabinMbps / copy).toFixed(4), unit: 'ratio' },
    { name: 'native_vs_rabin_wasm', value: +(native / rabinMbps).toFixed(2), unit: 'ratio' },
    { name: 'ts_vs_native', value: +(ts / native).toFixed(3), unit: 'ratio' },
    { name: 'chunk_sha256_mb_s', value: Math.round(mbps(size, put.ms)), unit: 'MB/s' },
    { name: 'chunk_sha256_mb_per_cpu_s', value: Math.round(mbps(size, put.cpuMs)), unit: 'MB/cpu-s' },
    { name: 'sha256_mb_s', value: Math.round(shaOnly), unit: 'MB/s' },
  ];
  if (corpus) {
    const { oldTar, newTar } = corpus;
    const both = Buffer.concat([oldTar, newTar]);
    const cNative = mbps(both.length, best(o.rounds, () => chunkLengths(both, { ...PARAMS, impl: 'native' })));
    const cTs = mbps(both.length, best(o.rounds, () => chunkLengths(both, { ...PARAMS, impl: 'ts' })));
    const cRabin = mbps(both.length, best(Math.min(2, o.rounds), () => rabinAll(rabin, both)));
    const cCopy = mbps(both.length, best(o.rounds, () => both.copy(dest)));
    log(`corpus ${specOld} (${(oldTar.length / 1e6).toFixed(1)} MB tar) -> ${specNew} (${(newTar.length / 1e6).toFixed(1)} MB tar): ` +
      `native ${cNative.toFixed(0)}, ts ${cTs.toFixed(0)}, rabin-wasm ${cRabin.toFixed(0)}, copy ${cCopy.toFixed(0)} MB/s`);
    const upgrade = (params) => {
      const oldChunks = chunk(oldTar, { ...params, hash: true });
      const newChunks = chunk(newTar, { ...params, hash: true });
      const known = oldChunks.map((c) => Buffer.from(c.hash).toString('hex'));
      const shipped = uniqueBytes(newChunks, known);
      return { shipped, ratio: shipped / newTar.length, chunks: newChunks.length };
    };
    const main = upgrade(PARAMS);
    const small = upgrade({ min: 4096, avg: 16384, max: 65536, level: 2 });
    log(`upgrade ships ${main.shipped} of ${newTar.length} bytes (${(100 * main.ratio).toFixed(1)}%, dedup ${(100 * (1 - main.ratio)).toFixed(1)}%) ` +
      `with 16/64/256 KiB; ${small.shipped} bytes (${(100 * small.ratio).toFixed(1)}%) with 4/16/64 KiB`);
    metrics.push(
      { name: 'corpus_native_mb_s', value: Math.round(cNative), unit: 'MB/s' },
      { name: 'corpus_ts_mb_s', value: Math.round(cTs), unit: 'MB/s' },
      { name: 'corpus_rabin_wasm_mb_s', value: Math.round(cRabin), unit: 'MB/s' },
      { name: 'corpus_copy_mb_s', value: Math.round(cCopy), unit: 'MB/s' },
      { name: 'upgrade_new_bytes', value: newTar.length, unit: 'bytes' },
      { name: 'upgrade_shipped_bytes', value: main.shipped, unit: 'bytes' },
      { name: 'upgrade_shipped_ratio', value: +main.ratio.toFixed(4), unit: 'ratio' },
      { name: 'upgrade_dedup_ratio', value: +(1 - main.ratio).toFixed(4), unit: 'ratio' },
      { name: 'upgrade_shipped_ratio_16k', value: +small.ratio.toFixed(4), unit: 'ratio' },
    );
  }
  // A default run (256 MiB and the corpus) is the one RESULTS.md records.
  if (o.size === 256 && corpus) record(metrics, { started, code, loadStart, rounds: o.rounds, corpus: o.corpus });
  return metrics;
}

function record(metrics, { started, code, loadStart, rounds, corpus }) {
  const v = Object.fromEntries(metrics.map((m) => [m.name, m]));
  const row = (name, what, budget) => (v[name] ? [{ ...v[name], what, budget }] : []);
  const rows = [
    ...row('native_mb_s', 'FastCDC, C addon, 256 MiB of random bytes, 16/64/256 KiB', { op: '>=', limit: 1700, text: 'at least the Rust `fastcdc` crate (~1,700 MB/s, DESIGN §12)' }),
    ...row('ts_mb_s', 'FastCDC, TypeScript fallback, the same bytes'),
    ...row('ts_vs_native', 'fallback / addon, same run', { op: '>=', limit: 0.2, text: 'at least a fifth' }),
    ...row('corpus_native_mb_s', `addon on the corpus (${corpus.replace(',', ' and ')}, as .tar)`),
    ...row('corpus_ts_mb_s', 'fallback on the corpus'),
    ...row('chunk_sha256_mb_s', '`BlobStore.put` of 256 MiB whose chunks are stored already (64 KiB buffers): cut, SHA-256 of every chunk and of the whole blob, lookups; two threads', { op: '>', limit: 1000, text: 'over 1,000 MB/s (issue 4)' }),
    ...row('chunk_sha256_mb_per_cpu_s', 'the same per CPU-second of the process (both threads)'),
    ...row('upgrade_shipped_ratio', 'share of the newer tarball an upgrade ships (chunks the older lacks)'),
  ];
  const f = (name) => (v[name] ? `${Math.round(v[name].value).toLocaleString('en-US')} MB/s` : '?');
  recordRun('cdc', {
    command: 'npm run bench -- cdc', started, code, rows,
    budgetHeader: 'budget',
    notes: [
      ...(v.chunk_sha256_mb_per_cpu_s ? [`\`BlobStore.put\` costs one CPU-second per ${f('chunk_sha256_mb_per_cpu_s').replace(' MB/s', ' MB')}: with both vCPUs to itself it could reach about ${Math.round(2 * v.chunk_sha256_mb_per_cpu_s.value).toLocaleString('en-US')} MB/s. It hashes every byte twice (each chunk, and the whole blob for the manifest's \`hash\`) besides cutting it.`] : []),
      `For scale, in the same run (not product paths): a copy of the buffer ${f('copy_mb_s')}, rabin-wasm ${f('rabin_wasm_mb_s')}, SHA-256 of one stream ${f('sha256_mb_s')}. Best of ${rounds} rounds.`,
      `Load average (1 min, ${os.cpus().length} vCPUs): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end; above ${os.cpus().length}, the suite waited for a CPU.`,
    ],
  });
}
