/**
 * A fake libgpiod command-line tool (gpiodetect, gpioinfo, gpioget, gpioset, gpiomon), run as
 * `node tool.js <tool> args...` from a wrapper named like the tool. It behaves as libgpiod v1.6
 * or v2 (FAKE_GPIO_VERSION) as far as the edge agent can tell: each version's flags, argument
 * order, version line and output formats (v1 gpiomon: %e 1/0, %s %n, fully buffered stdout
 * without -b; v2: %e 1/2, %S "sec.nsec", %s/%n printed as they are, `-p` debounce, `-i` only
 * when built with it: FAKE_GPIO_INTERACTIVE=1). A line another process holds is busy. State is
 * shared through files (state.ts). Read from the real tools' sources (libgpiod v1.6.x, v2.2.x).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { FakeGpioState, lineKey } from './state.js';

const tool = process.argv[2] ?? '';
const args = process.argv.slice(3);
const v2 = process.env.FAKE_GPIO_VERSION !== '1.6';
const interactiveBuilt = process.env.FAKE_GPIO_INTERACTIVE === '1';
const state = new FakeGpioState(process.env.FAKE_GPIO_STATE ?? '.');
const chips: { name: string; label: string; lines: number }[] = JSON.parse(process.env.FAKE_GPIO_CHIPS ?? '[]');
state.logCall([tool, ...args]);

function die(msg: string): never {
  process.stderr.write(`${tool}: ${msg}\n`);
  process.exit(1);
}

/** getopt_long, enough of it: `spec` maps each accepted flag (short and long) to [key, takesArg]. */
function parse(spec: Record<string, [string, boolean]>): { opts: Record<string, string | true>; rest: string[] } {
  const opts: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (rest.length > 0 || !a.startsWith('-') || a === '-') {
      rest.push(a); // '+' in the real shortopts: options stop at the first operand
      continue;
    }
    const [flag, inline] = a.startsWith('--') ? (a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]) : [a.slice(0, 2), a.length > 2 ? a.slice(2) : undefined];
    const s = spec[flag!];
    if (!s) die(`unrecognized option '${a}'\ntry ${tool} --help`);
    if (s[1]) {
      const v = inline ?? args[++i];
      if (v === undefined) die(`option '${flag}' requires an argument`);
      opts[s[0]] = v;
    } else opts[s[0]] = true;
  }
  return { opts, rest };
}

const common: Record<string, [string, boolean]> = { '-h': ['help', false], '--help': ['help', false], '-v': ['version', false], '--version': ['version', false] };
const v2Common: Record<string, [string, boolean]> = { ...common, '-c': ['chip', true], '--chip': ['chip', true], '-C': ['consumer', true], '--consumer': ['consumer', true], '-l': ['activeLow', false], '--active-low': ['activeLow', false], '-b': ['bias', true], '--bias': ['bias', true], '--banner': ['banner', false], '--unquoted': ['unquoted', false] };
const v1Common: Record<string, [string, boolean]> = { ...common, '-l': ['activeLow', false], '--active-low': ['activeLow', false], '-B': ['bias', true], '--bias': ['bias', true] };

function version(): never {
  process.stdout.write(v2 ? `${tool} v2.2.1 (libgpiod v2.2.1)\nCopyright (C) 2017-2023 Bartosz Golaszewski\n` : `${tool} (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski\n`);
  process.exit(0);
}

function chipOf(id: string | undefined): { name: string; label: string; lines: number } {
  if (id === undefined) die('the fake needs the chip given (-c in v2, the first operand in v1)');
  const c = chips.find((c) => c.name === id || `/dev/${c.name}` === id || c.name === `gpiochip${id}`);
  if (!c) die(`cannot find GPIO chip character device '${id}'`);
  return c;
}

/** Resolves the chip and offsets, refusing a line another process holds (EBUSY). */
function request(chipId: string | undefined, ids: string[]): string[] {
  const chip = chipOf(chipId);
  return ids.map((id) => {
    const off = Number(id);
    if (!/^\d+$/.test(id) || off >= chip.lines) die(v2 ? `cannot find line '${id}'` : `invalid offset: ${id}`);
    const key = lineKey(chip.name, off);
    const h = state.holder(key);
    if (h && h.pid !== process.pid) die(v2 ? `unable to request lines on chip '/dev/${chip.name}': Device or resource busy` : 'error setting the GPIO line values: Device or resource busy');
    return key;
  });
}

/** Watches our parent: a fake left behind by a killed test exits instead of lingering. */
const ppid = process.ppid;
setInterval(() => process.ppid !== ppid && process.exit(0), 200).unref();

function parseValue(s: string): boolean {
  if (v2) {
    if (['1', 'active', 'on', 'true'].includes(s)) return true;
    if (['0', 'inactive', 'off', 'false'].includes(s)) return false;
    die(`invalid line value: '${s}'`);
  }
  if (s === '1' || s === '0') return s === '1';
  die(`invalid value: ${s}`);
}

function gpiodetect(): void {
  const { opts } = parse(common);
  if (opts.version) version();
  for (const c of chips) process.stdout.write(`${c.name} [${c.label}] (${c.lines} lines)\n`);
}

function gpioinfo(): void {
  const { opts, rest } = parse(v2 ? v2Common : common);
  if (opts.version) version();
  for (const c of chips) {
    if (rest.length && !rest.includes(c.name)) continue;
    process.stdout.write(v2 ? `${c.name} - ${c.lines} lines:\n` : `${c.name} - ${c.lines} lines:\n`);
    for (let i = 0; i < c.lines; i++) {
      const h = state.holder(lineKey(c.name, i));
      process.stdout.write(`\tline ${String(i).padStart(3)}:\tunnamed\t${h ? `"${h.tool}"` : 'unused'}\t${h?.level !== undefined ? 'output' : 'input'}\n`);
    }
  }
}

function gpioget(): void {
  const { opts, rest } = parse(v2 ? { ...v2Common, '-a': ['asIs', false], '--as-is': ['asIs', false], '--numeric': ['numeric', false] } : v1Common);
  if (opts.version) version();
  const [chipId, ids] = v2 ? [opts.chip as string | undefined, rest] : [rest[0], rest.slice(1)];
  const keys = request(chipId, ids);
  const values = keys.map((k) => state.level(k) !== !!opts.activeLow);
  if (!v2 || opts.numeric) process.stdout.write(`${values.map((v) => (v ? 1 : 0)).join(' ')}\n`);
  else process.stdout.write(`${ids.map((id, i) => `${opts.unquoted ? id : `"${id}"`}=${values[i] ? 'active' : 'inactive'}`).join(' ')}\n`);
}

function gpioset(): void {
  const spec: Record<string, [string, boolean]> = v2
    ? { ...v2Common, '-d': ['drive', true], '--drive': ['drive', true], '-z': ['daemonize', false], '-p': ['hold', true], '-t': ['toggle', true], ...(interactiveBuilt ? { '-i': ['interactive', false], '--interactive': ['interactive', false] } : {}) }
    : { ...v1Common, '-D': ['drive', true], '--drive': ['drive', true], '-m': ['mode', true], '--mode': ['mode', true], '-b': ['background', false], '--background': ['background', false] };
  const { opts, rest } = parse(spec);
  if (opts.help) {
    process.stdout.write(`Usage: gpioset [OPTIONS] <line=value>...\n${interactiveBuilt && v2 ? '  -i, --interactive\tset the lines then wait for additional set commands\n' : ''}  -l, --active-low\ttreat the line as active low\n`);
    process.exit(0);
  }
  if (opts.version) version();
  const [chipId, pairs] = v2 ? [opts.chip as string | undefined, rest] : [rest[0], rest.slice(1)];
  if (pairs.length === 0) die('at least one GPIO line value must be specified');
  const activeLow = !!opts.activeLow;
  const ids = pairs.map((p) => p.split('=')[0] ?? '');
  const keys = request(chipId, ids);
  const set = (i: number, value: boolean) => state.setHolder(keys[i]!, { pid: process.pid, tool, level: value !== activeLow });
  pairs.forEach((p, i) => set(i, parseValue(p.split('=')[1] ?? '')));
  const release = () => {
    for (const k of keys) state.release(k, process.pid);
    process.exit(0);
  };
  if (opts.banner) process.stdout.write(`Setting line${ids.length > 1 ? 's' : ''} ${ids.map((i) => `'${i}'`).join(', ')}...\n`);
  const mode = v2 ? (opts.interactive ? 'interactive' : 'hold') : ((opts.mode as string | undefined) ?? 'exit');
  if (mode === 'exit') return release();
  process.on('SIGTERM', release);
  process.on('SIGINT', release);
  if (mode === 'signal' || mode === 'hold') {
    setInterval(() => {}, 1 << 30);
    return;
  }
  if (mode === 'wait') {
    process.stdin.once('data', release);
    return;
  }
  if (mode !== 'interactive') die(`invalid mode: ${mode}`);
  // libedit does not print its prompt when stdout is not a terminal, so gpioset prints it.
  process.stdout.write('gpioset> ');
  let buf = '';
  process.stdin.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const words = buf.slice(0, nl).trim().split(/\s+/).filter(Boolean);
      buf = buf.slice(nl + 1);
      if (words[0] === 'exit') return release();
      if (words[0] === 'set') {
        for (const w of words.slice(1)) {
          const [id, val] = w.split('=');
          const i = ids.indexOf(id ?? '');
          if (i < 0) process.stdout.write(`unknown line: '${id}'\n`);
          else set(i, parseValue(val ?? ''));
        }
      } else if (words.length) process.stdout.write(`unknown command: '${words[0]}'\n`);
      process.stdout.write('gpioset> ');
    }
  });
  // At end of input the real tool spins on readline's NULL; it keeps the line either way.
  setInterval(() => {}, 1 << 30);
}

function gpiomon(): void {
  const spec: Record<string, [string, boolean]> = v2
    ? { ...v2Common, '-p': ['debounce', true], '--debounce-period': ['debounce', true], '-e': ['edges', true], '--edges': ['edges', true], '-F': ['format', true], '--format': ['format', true], '-E': ['clock', true], '--event-clock': ['clock', true], '-n': ['num', true], '-q': ['quiet', false] }
    : { ...v1Common, '-F': ['format', true], '--format': ['format', true], '-b': ['lineBuffered', false], '--line-buffered': ['lineBuffered', false], '-r': ['rising', false], '-f': ['falling', false], '-n': ['num', true], '-s': ['silent', false] };
  const { opts, rest } = parse(spec);
  if (opts.version) version();
  const [chipId, ids] = v2 ? [opts.chip as string | undefined, rest] : [rest[0], rest.slice(1)];
  if (ids.length === 0) die('at least one GPIO line must be specified');
  const keys = request(chipId, ids);
  // Where each line's edges file ends and its level, taken before the request shows (the test
  // drives once it sees the holder: nothing it drives after that is missed).
  const starts = keys.map((k) => ({ pos: sizeOf(state.edgesFile(k)), level: state.level(k) }));
  for (const k of keys) state.setHolder(k, { pid: process.pid, tool });
  if (opts.banner) process.stdout.write(ids.length > 1 ? `Monitoring lines ${ids.slice(0, -1).map((i) => `'${i}', `).join('')}and '${ids.at(-1)}'...\n` : `Monitoring line '${ids[0]}'...\n`);
  const release = () => {
    flush();
    for (const k of keys) state.release(k, process.pid);
    process.exit(0);
  };
  process.on('SIGTERM', release);
  process.on('SIGINT', release);
  const activeLow = !!opts.activeLow;
  const debounceNs = opts.debounce ? periodNs(opts.debounce as string) : 0n;
  const fmt = opts.format as string | undefined;
  // Without -b, v1's stdout to a pipe is fully buffered: nothing shows until 4 KiB or exit.
  let out = '';
  const flush = () => {
    if (out) process.stdout.write(out);
    out = '';
  };
  const print = (s: string) => {
    out += s;
    if (v2 || opts.lineBuffered || out.length >= 4096) flush();
  };
  const emit = (i: number, level: boolean, ns: bigint) => {
    const rising = level !== activeLow;
    const sec = ns / 1_000_000_000n;
    const nsec = ns % 1_000_000_000n;
    const spec = (c: string): string | undefined =>
      (<Record<string, string>>{
        o: ids[i]!,
        e: v2 ? (rising ? '1' : '2') : rising ? '1' : '0',
        ...(v2 ? { E: rising ? 'rising' : 'falling', S: `${sec}.${String(nsec).padStart(9, '0')}`, c: chipId! } : { s: `${sec}`, n: `${nsec}` }),
      })[c];
    if (!fmt) print(v2 ? `${sec}.${String(nsec).padStart(9, '0')}\t${rising ? 'rising' : 'falling'}\t${chipId} ${ids[i]}\n` : `event: ${rising ? ' RISING EDGE' : 'FALLING EDGE'} offset: ${ids[i]} timestamp: [${sec}.${nsec}]\n`);
    else print(`${fmt.replace(/%(.)/g, (m, c: string) => (c === '%' ? '%' : (spec(c) ?? m)))}\n`);
  };
  // Tail each line's edges file from its current end; debounce (v2 -p) as the kernel does:
  // an edge counts once the line has held its new level for the period.
  keys.forEach((key, i) => {
    const file = state.edgesFile(key);
    let { pos, level: stable } = starts[i]!;
    let pending: { level: boolean; ns: bigint; timer: NodeJS.Timeout } | undefined;
    const take = (level: boolean, ns: bigint) => {
      if (level !== stable) emit(i, level, ns);
      stable = level;
    };
    setInterval(() => {
      let size = 0;
      try {
        size = statSync(file).size;
      } catch {
        return;
      }
      if (size <= pos) return;
      const fd = openSync(file, 'r');
      const b = Buffer.alloc(size - pos);
      readSync(fd, b, 0, b.length, pos);
      closeSync(fd);
      pos = size;
      for (const line of b.toString().split('\n').filter(Boolean)) {
        const [l, t] = line.split(' ');
        const level = l === '1';
        const ns = BigInt(t ?? '0');
        if (debounceNs === 0n) take(level, ns);
        else {
          if (pending) clearTimeout(pending.timer);
          const p: { level: boolean; ns: bigint; timer?: NodeJS.Timeout } = { level, ns };
          p.timer = setTimeout(() => ((pending = undefined), take(p.level, p.ns)), Number(debounceNs / 1_000_000n));
          pending = p as typeof pending;
        }
      }
    }, 5);
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** A v2 period: a number with an optional unit (us, ms, s, m); bare numbers are ms. */
function periodNs(p: string): bigint {
  const m = /^(\d+)(us|ms|s|m)?$/.exec(p);
  if (!m) die(`invalid period: ${p}`);
  const n = BigInt(m[1]!);
  return n * ({ us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n } as const)[(m[2] ?? 'ms') as 'us']!;
}

const tools: Record<string, () => void> = { gpiodetect, gpioinfo, gpioget, gpioset, gpiomon };
const run = tools[tool];
if (!run) die('unknown fake tool');
run();
