#!/usr/bin/env node
// `npm run bench -- SUITE [options]`: runs bench/suites/SUITE.mjs after the packages are built.
// A suite exports `describe` (one line) and `run(args, log)`, which returns an array of
// `{ name, value, unit }`; this writes it to bench/results/SUITE.json and prints it.
// Figures go into bench/RESULTS.md by hand, with the machine and the date.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
const [name, ...args] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h') {
  console.log('usage: npm run bench -- SUITE [suite options]\n\nsuites:');
  for (const s of suites) {
    const mod = await import(pathToFileURL(join(here, 'suites', `${s}.mjs`)).href);
    console.log(`  ${s.padEnd(10)} ${mod.describe ?? ''}`);
  }
  console.log('\nEach suite writes bench/results/SUITE.json ([{ name, value, unit }]). `npm run bench -- SUITE --help` for its options.');
  process.exit(name ? 0 : 2);
}
if (!suites.includes(name)) {
  console.error(`unknown bench suite "${name}". Known suites: ${suites.join(', ')}.`);
  process.exit(2);
}
const mod = await import(pathToFileURL(join(here, 'suites', `${name}.mjs`)).href);
const log = (msg) => console.error(`[bench:${name}] ${msg}`);
log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString()}`);
const metrics = await mod.run(args, log);
if (!Array.isArray(metrics)) process.exit(0); // --help
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `${name}.json`), JSON.stringify(metrics, null, 2) + '\n');
for (const m of metrics) console.log(`${m.name.padEnd(28)} ${String(m.value).padStart(14)} ${m.unit}`);
console.log(`wrote bench/results/${name}.json`);
