/**
 * One long-running `gpiomon` watching lines of one chip, its edges parsed per version:
 *   v2: `gpiomon -c CHIP [-l] [-b BIAS] [-p Nms] -C CONSUMER --banner -F "%o %e %S" OFFSET...`
 *       %e is 1 rising / 2 falling, %S "sec.nsec" (v2 dropped %s and %n);
 *   v1.6: `gpiomon -b [-l] [-B BIAS] -F "%o %e %s %n" CHIP OFFSET...`
 *       %e is 1 rising / 0 falling, %n unpadded; -b, or its stdout to our pipe is block-buffered.
 * With -l the edges are the logical ones (a rising edge is the line becoming active).
 * Timestamps are the kernel's (monotonic clock in current kernels): only their differences mean
 * anything, which is what Wiegand needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EdgeError } from '../../errors.js';
import { readyWithin, trackChild, type GpiodTools } from './gpiod-tools.js';

export type Bias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';

export interface GpiomonOptions {
  chip: string;
  offsets: readonly number[];
  activeLow?: boolean;
  bias?: Bias;
  /** Kernel debounce (v2 only; the caller debounces v1.6 in software). */
  debounceMs?: number;
  consumer: string;
}

export interface Gpiomon {
  /** Resolves once the lines are requested (v2: its banner; v1.6 says nothing, so: started). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function gpiomonArgs(tools: GpiodTools, o: GpiomonOptions): string[] {
  const offs = o.offsets.map(String);
  const bias = o.bias ?? 'as-is';
  if (tools.major === 2) {
    return [
      '-c', o.chip,
      ...(o.activeLow ? ['-l'] : []),
      ...(bias !== 'as-is' ? ['-b', bias] : []),
      ...(o.debounceMs ? ['-p', `${o.debounceMs}ms`] : []),
      '-C', o.consumer,
      '--banner',
      '-F', '%o %e %S',
      ...offs,
    ];
  }
  return ['-b', ...(o.activeLow ? ['-l'] : []), ...(bias !== 'as-is' ? ['-B', bias === 'disabled' ? 'disable' : bias] : []), '-F', '%o %e %s %n', o.chip, ...offs];
}

/** One event line in `major`'s format: [offset, rising, ns], or undefined for anything else (the banner). */
export function parseEvent(major: 1 | 2, line: string): [number, boolean, bigint] | undefined {
  const m = major === 2 ? /^(\d+) ([12]) (\d+)\.(\d{9})$/.exec(line.trim()) : /^(\d+) ([01]) (\d+) (\d{1,9})$/.exec(line.trim());
  if (!m) return undefined;
  return [Number(m[1]), m[2] === '1', BigInt(m[3]!) * 1_000_000_000n + BigInt(m[4]!)];
}

export function startGpiomon(
  tools: GpiodTools,
  o: GpiomonOptions,
  onEdge: (offset: number, rising: boolean, ns: bigint) => void,
  onFailure: (err: Error) => void,
): Gpiomon {
  const child: ChildProcess = spawn('gpiomon', gpiomonArgs(tools, o), { env: tools.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let closing = false;
  let stderr = '';
  let buf = '';
  let resolveReady: () => void = () => {};
  let rejectReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => {}); // the caller awaits it; a later failure goes to onFailure as well
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const ev = parseEvent(tools.major, line);
      if (ev) onEdge(...ev);
      else if (line.startsWith('Monitoring line')) resolveReady();
    }
    if (buf.length > 4096) buf = ''; // not gpiomon's output: never hold an unbounded line
  });
  child.once('spawn', () => tools.major === 1 && resolveReady());
  let failed = false;
  const fail = (e: Error) => {
    if (failed || closing) return;
    failed = true;
    rejectReady(e);
    onFailure(e);
  };
  child.once('error', (err) =>
    fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? new EdgeError('DRIVER_UNAVAILABLE', 'gpiomon was not found: install the libgpiod tools (sudo apt install gpiod)') : err),
  );
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  child.once('close', (code, signal) =>
    fail(new EdgeError('DEVICE_FAILED', `gpiomon on ${o.chip} ${o.offsets.join(',')} stopped (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`)),
  );
  const untrack = trackChild(child);
  return {
    ready: readyWithin(ready, `gpiomon did not report monitoring ${o.chip} ${o.offsets.join(',')}`, () => child.kill('SIGKILL')),
    close: async () => {
      if (closing) return exited;
      closing = true;
      untrack();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
