// Writes a suite's recorded run into bench/RESULTS.md: the part of the suite's section between
// `<!-- SUITE: recorded run (written by the suite) -->` and `<!-- SUITE: end of recorded run -->`
// is replaced; the notes written by hand around it stay.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

/** The checkout's commit, with "+ changes" when the work tree differs from it. */
export function codeVersion() {
  try {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function machine(extra = '') {
  const cpu = os.cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'} ×${cpu.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}${extra ? `, ${extra}` : ''}`;
}

/**
 * `rows`: [{ name, value, unit, what, budget?: { op: '>' | '>=' | '<=', limit, text } }]. Returns
 * the markdown table and the list of metrics that miss their budget.
 */
export function budgetTable(rows, budgetHeader = 'budget (DESIGN §12)') {
  const fmt = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Math.abs(v) < 1 ? String(+v.toPrecision(3)) : String(Math.round(v * 100) / 100));
  const misses = [];
  const lines = [`| metric | what | figure | ${budgetHeader} |`, '| --- | --- | ---: | --- |'];
  for (const r of rows) {
    let verdict = '';
    if (r.budget) {
      const ok = r.budget.op === '>' ? r.value > r.budget.limit
        : r.budget.op === '>=' ? r.value >= r.budget.limit : r.value <= r.budget.limit;
      verdict = `${r.budget.text}: **${ok ? 'met' : 'MISSED'}**`;
      if (!ok) misses.push(r);
    }
    lines.push(`| \`${r.name}\` | ${r.what} | ${fmt(r.value)} ${r.unit} | ${verdict} |`);
  }
  return { table: lines.join('\n'), misses };
}

/** Replaces the recorded-run block of `suite`'s section with `markdown`. */
export function writeRecordedRun(suite, markdown) {
  const start = `<!-- ${suite}: recorded run (written by the suite) -->`;
  const end = `<!-- ${suite}: end of recorded run -->`;
  const text = readFileSync(RESULTS, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`bench/RESULTS.md has no "${start}" … "${end}" block in its ${suite} section; add one where the recorded run belongs`);
  writeFileSync(RESULTS, text.slice(0, a + start.length) + '\n' + markdown.trim() + '\n' + text.slice(b));
}

/**
 * The standard recorded run of a suite, written into its RESULTS.md block: command, date, code,
 * machine, the metric/figure/budget table and what misses. `rows` as for budgetTable; `notes`:
 * lines added under "What misses" (load, caveats the run measured).
 */
export function recordRun(suite, { command, started, ended = new Date(), code, machineExtra = '', rows, notes = [], budgetHeader }) {
  const { table, misses } = budgetTable(rows, budgetHeader);
  const fmt = (r) => `${r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value} ${r.unit}`;
  writeRecordedRun(suite, [
    `Command: \`${command}\`. Date: ${started.toISOString().replace('T', ' ').slice(0, 16)}–${ended.toISOString().slice(11, 16)} UTC. Code: \`${code}\`.`,
    `Machine: ${machine(machineExtra)}.`,
    '',
    table,
    '',
    'What misses:',
    ...(misses.length ? misses.map((r) => `- \`${r.name}\` misses: ${fmt(r)} against ${r.budget.text}.`) : ['- Every budget is met.']),
    ...notes.map((n) => `- ${n}`),
  ].join('\n'));
  return misses;
}
