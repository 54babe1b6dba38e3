// `npm run bench -- cdc`: FastCDC throughput of the C addon and the TypeScript fallback, against
// rabin-wasm (the chunker IPFS used) and a plain buffer copy (the memory-bandwidth ceiling), on
// 256 MiB of random bytes and on two consecutive versions of a real npm tarball; then chunking +
// SHA-256 of every chunk (what a blob store does), on one and on two threads; and the bytes an
// upgrade between the two versions would ship.
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { chunk, chunkLengths, implementation, nativeAvailable } from '@keymesh/cdc-native';

export const describe = 'FastCDC native vs TS fallback vs rabin-wasm vs memcpy; chunk+SHA-256; upgrade dedup';

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

/** Chunk + SHA-256 on two threads: this thread cuts (and hashes when it is ahead), a worker
 * hashes; chunks are claimed one at a time through a shared counter. */
const HASH_WORKER = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { data, meta, offsets, digests } = workerData;
const bytes = new Uint8Array(data);
const m = new Int32Array(meta); // 0 published, 1 claim, 2 done (total when all cut)
const off = new Float64Array(offsets);
const out = new Uint8Array(digests);
for (;;) {
  const i = Atomics.add(m, 1, 1);
  for (;;) {
    const pub = Atomics.load(m, 0);
    if (i < pub) break;
    if (Atomics.load(m, 2) === 1) process.exit(0);
    Atomics.wait(m, 0, pub, 50);
  }
  out.set(createHash('sha256').update(bytes.subarray(off[i], off[i + 1])).digest(), i * 32);
}`;

async function chunkSha256TwoThreads(shared, params) {
  const bytes = new Uint8Array(shared);
  const maxChunks = Math.ceil(bytes.length / params.min) + 2;
  const meta = new SharedArrayBuffer(16);
  const offsets = new SharedArrayBuffer(8 * (maxChunks + 1));
  const digests = new SharedArrayBuffer(32 * maxChunks);
  const m = new Int32Array(meta);
  const off = new Float64Array(offsets);
  const out = new Uint8Array(digests);
  const worker = new Worker(HASH_WORKER, { eval: true, workerData: { data: shared, meta, offsets, digests } });
  await new Promise((r) => worker.once('online', r));
  const exited = new Promise((r) => worker.once('exit', r));

  const t = performance.now();
  const SEGMENT = 8 * MiB;
  let cutEnd = 0; // bytes cut so far
  let n = 0; // chunks published
  const hashOne = (i) => out.set(createHash('sha256').update(bytes.subarray(off[i], off[i + 1])).digest(), i * 32);
  // Cut one segment at a time (cuts continue across segments: each segment is cut with `max`
  // bytes of lookahead, so the cut points equal the one-shot ones), then help hashing.
  while (cutEnd < bytes.length) {
    const end = Math.min(bytes.length, cutEnd + SEGMENT);
    const final = end === bytes.length;
    const view = bytes.subarray(cutEnd, final ? end : Math.min(bytes.length, end + params.max));
    const lengths = chunkLengths(view, params);
    let pos = cutEnd;
    for (const len of lengths) {
      if (!final && pos >= end) break; // later cuts may depend on bytes past the lookahead
      off[n] = pos;
      pos += len;
      off[n + 1] = pos;
      n++;
    }
    cutEnd = pos;
    Atomics.store(m, 0, n);
    Atomics.notify(m, 0);
    // Hash while the worker keeps up: claim chunks until the backlog is small.
    while (n - Atomics.load(m, 1) > 8) {
      const i = Atomics.add(m, 1, 1);
      if (i >= n) break;
      hashOne(i);
    }
  }
  Atomics.store(m, 2, 1);
  for (;;) {
    const i = Atomics.add(m, 1, 1);
    if (i >= n) break;
    hashOne(i);
  }
  Atomics.notify(m, 0);
  await exited;
  const ms = performance.now() - t;
  return { ms, count: n, digests: out.subarray(0, n * 32), offsets: off.subarray(0, n + 1) };
}

/**
 * Chunk + SHA-256 on two threads by splitting the input: a worker chunks and hashes the second
 * half as if a stream started there, this thread the first half and on past the middle until
 * one of its cuts lands on one of the worker's. Content-defined cuts depend only on the bytes
 * after the previous cut, so from that cut on the worker's chunks are the one-thread chunks
 * (checked below against the one-thread result). Each thread cuts and hashes its own half.
 */
const SPLIT_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
import(workerData.cdcUrl).then(({ chunkLengths }) => {
  const { data, start, params } = workerData;
  const bytes = new Uint8Array(data);
  parentPort.once('message', () => {
    const lengths = chunkLengths(bytes.subarray(start), { ...params, impl: 'native' });
    const offsets = new Float64Array(lengths.length + 1);
    const digests = new Uint8Array(lengths.length * 32);
    let pos = start;
    for (let i = 0; i < lengths.length; i++) {
      offsets[i] = pos;
      digests.set(createHash('sha256').update(bytes.subarray(pos, pos + lengths[i])).digest(), i * 32);
      pos += lengths[i];
    }
    offsets[lengths.length] = pos;
    parentPort.postMessage({ offsets, digests }, [offsets.buffer, digests.buffer]);
  });
  parentPort.postMessage('ready');
});`;

async function chunkSha256Split(shared, params) {
  const bytes = new Uint8Array(shared);
  const half = Math.floor(bytes.length / 2);
  const cdcUrl = import.meta.resolve('@keymesh/cdc-native');
  const worker = new Worker(SPLIT_WORKER, { eval: true, workerData: { data: shared, start: half, params, cdcUrl } });
  await new Promise((r) => worker.once('message', r));
  const t = performance.now();
  const theirs = new Promise((r) => worker.once('message', r));
  worker.postMessage('go');
  const offsets = [];
  const digests = [];
  const take = (pos, len) => {
    offsets.push(pos);
    digests.push(createHash('sha256').update(bytes.subarray(pos, pos + len)).digest());
    return pos + len;
  };
  // First half: every cut that starts before the middle is exact (the view reaches `max` past it).
  let pos = 0;
  const first = chunkLengths(bytes.subarray(0, Math.min(bytes.length, half + params.max)), { ...params, impl: 'native' });
  for (const len of first) {
    if (pos >= half) break;
    pos = take(pos, len);
  }
  const w = await theirs;
  const index = new Map();
  for (let i = 0; i + 1 < w.offsets.length; i++) index.set(w.offsets[i], i);
  // Past the middle, one chunk at a time until a cut meets one of the worker's.
  while (pos < bytes.length && !index.has(pos)) {
    const [len] = chunkLengths(bytes.subarray(pos, Math.min(bytes.length, pos + params.max)), { ...params, impl: 'native' });
    pos = take(pos, len);
  }
  let n = offsets.length;
  const k = index.get(pos);
  const total = n + (k === undefined ? 0 : w.offsets.length - 1 - k);
  const off = new Float64Array(total + 1);
  const out = new Uint8Array(total * 32);
  offsets.forEach((o, i) => { off[i] = o; out.set(digests[i], i * 32); });
  if (k !== undefined) {
    off.set(w.offsets.subarray(k), n);
    out.set(w.digests.subarray(k * 32), n * 32);
    n = total;
  } else {
    off[n] = pos;
  }
  const ms = performance.now() - t;
  await worker.terminate();
  return { ms, count: n, digests: out.subarray(0, n * 32), offsets: off.subarray(0, n + 1) };
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

  // Chunk + SHA-256 per chunk: one thread, then two.
  let one = [];
  const oneMs = best(Math.min(2, o.rounds), () => { one = chunk(data, { ...PARAMS, impl: 'native', hash: true }); });
  const oneMbps = mbps(size, oneMs);
  let twoMs = Infinity;
  let two;
  for (let r = 0; r < Math.min(2, o.rounds); r++) {
    two = await chunkSha256TwoThreads(shared, PARAMS);
    twoMs = Math.min(twoMs, two.ms);
  }
  const twoMbps = mbps(size, twoMs);
  const sameAsOne = (r) => r.count === one.length &&
    one.every((c, i) => c.offset === r.offsets[i] && Buffer.compare(c.hash, r.digests.subarray(i * 32, i * 32 + 32)) === 0);
  if (!sameAsOne(two)) throw new Error('two-thread chunk+SHA-256 disagrees with the one-thread result');
  let splitMs = Infinity;
  for (let r = 0; r < Math.min(2, o.rounds); r++) {
    const split = await chunkSha256Split(shared, PARAMS);
    if (!sameAsOne(split)) throw new Error('split two-thread chunk+SHA-256 disagrees with the one-thread result');
    splitMs = Math.min(splitMs, split.ms);
  }
  const splitMbps = mbps(size, splitMs);
  log(`chunk+sha256: 1 thread ${oneMbps.toFixed(0)} MB/s, 2 threads pipelined ${twoMbps.toFixed(0)} MB/s, 2 threads split ${splitMbps.toFixed(0)} MB/s (same chunks and digests)`);
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
    { name: 'chunk_sha256_mb_s', value: Math.round(Math.max(oneMbps, twoMbps, splitMbps)), unit: 'MB/s' },
    { name: 'chunk_sha256_1thread_mb_s', value: Math.round(oneMbps), unit: 'MB/s' },
    { name: 'chunk_sha256_2threads_mb_s', value: Math.round(twoMbps), unit: 'MB/s' },
    { name: 'chunk_sha256_2threads_split_mb_s', value: Math.round(splitMbps), unit: 'MB/s' },
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
  return metrics;
}
