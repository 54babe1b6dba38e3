/**
 * The fake GPIO world the fake libgpiod tools and the test share, as files in one folder (the
 * tools are separate processes). Per line `<chip>-<offset>`:
 *   holder-*.json  who requests the line now ({pid, tool, level}); a dead pid means released
 *   levels-*.log   every electrical level an output holder drove, one "0"/"1" a line
 *   input-*        the electrical level the test drives on an input
 *   edges-*.log    the edges the test drove: "<level> <epoch ns>" a line (gpiomon tails it)
 *   pull-*         the level the line rests at when nobody drives it (the pull resistor)
 * and calls.log: one JSON array per tool run (argv), for tests that check the flags used.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Holder {
  pid: number;
  tool: string;
  /** Electrical level driven (outputs); undefined for an input request. */
  level?: boolean;
}

export const lineKey = (chip: string, offset: number): string => `${chip}-${offset}`;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FakeGpioState {
  constructor(readonly dir: string) {}

  #f(kind: string, key: string, ext = ''): string {
    return join(this.dir, `${kind}-${key}${ext}`);
  }

  holder(key: string): Holder | undefined {
    const f = this.#f('holder', key, '.json');
    if (!existsSync(f)) return undefined;
    try {
      const h = JSON.parse(readFileSync(f, 'utf8')) as Holder;
      return alive(h.pid) ? h : undefined;
    } catch {
      return undefined;
    }
  }

  setHolder(key: string, h: Holder): void {
    const f = this.#f('holder', key, '.json');
    writeFileSync(`${f}.${process.pid}`, JSON.stringify(h));
    renameSync(`${f}.${process.pid}`, f);
    if (h.level !== undefined) appendFileSync(this.#f('levels', key, '.log'), h.level ? '1\n' : '0\n');
  }

  release(key: string, pid: number): void {
    const h = this.holder(key);
    if (h?.pid === pid) rmSync(this.#f('holder', key, '.json'), { force: true });
  }

  pull(key: string): boolean {
    const f = this.#f('pull', key);
    return existsSync(f) && readFileSync(f, 'utf8').trim() === '1';
  }

  setPull(key: string, level: boolean): void {
    writeFileSync(this.#f('pull', key), level ? '1' : '0');
  }

  /** The electrical level on the line: its output holder's, else the input the test drives, else the pull. */
  level(key: string): boolean {
    const h = this.holder(key);
    if (h?.level !== undefined) return h.level;
    const f = this.#f('input', key);
    if (existsSync(f)) return readFileSync(f, 'utf8').trim() === '1';
    return this.pull(key);
  }

  levels(key: string): boolean[] {
    const f = this.#f('levels', key, '.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l === '1');
  }

  /** Drives an input: `edges` are [level, epoch ns] in order, written in one append (a glitch arrives whole). */
  drive(key: string, edges: readonly [boolean, bigint][]): void {
    if (edges.length === 0) return;
    writeFileSync(this.#f('input', key), edges[edges.length - 1]![0] ? '1' : '0');
    appendFileSync(this.#f('edges', key, '.log'), edges.map(([l, t]) => `${l ? 1 : 0} ${t}\n`).join(''));
  }

  edgesFile(key: string): string {
    return this.#f('edges', key, '.log');
  }

  logCall(argv: readonly string[]): void {
    appendFileSync(join(this.dir, 'calls.log'), `${JSON.stringify(argv)}\n`);
  }

  calls(): string[][] {
    const f = join(this.dir, 'calls.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  }
}
