// How the product runs the edge agent: the node flags and environment of its systemd unit
// (hardware/systemd/keymesh-edge.service), read from the unit itself so the edge suite measures
// the agent's RSS and taps under exactly those (DESIGN §12).
import { readFileSync } from 'node:fs';

export const EDGE_UNIT = new URL('../../hardware/systemd/keymesh-edge.service', import.meta.url);

/** { execArgv: the flags between node and the script on ExecStart, env: the Environment= variables }. */
export function edgeUnitRuntime(unit = readFileSync(EDGE_UNIT, 'utf8')) {
  const lines = unit.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const exec = lines.filter((l) => l.startsWith('ExecStart='));
  if (exec.length !== 1) throw new Error(`the edge unit has ${exec.length} ExecStart lines, not 1`);
  const words = exec[0].slice('ExecStart='.length).split(/\s+/);
  if (!/\/node$/.test(words[0])) throw new Error(`the edge unit's ExecStart does not start with node: ${exec[0]}`);
  const execArgv = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith('-')) break;
    execArgv.push(w);
  }
  const env = {};
  for (const l of lines.filter((x) => x.startsWith('Environment='))) {
    for (const kv of l.slice('Environment='.length).split(/\s+/)) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return { execArgv, env };
}
