// How much of the VM's CPU the hypervisor gave to other guests while something ran ("steal" in
// /proc/stat), and how much CPU this process used. On this project's VM, steal rises with
// syscalls and disk writes and swings between ~5 % and ~55 % from minute to minute, which is most
// of the drift in the ledger figures (bench/RESULTS.md, ledger): a suite reports it beside them.
import { readFileSync } from 'node:fs';

function ticks() {
  try {
    // cpu user nice system idle iowait irq softirq steal …
    return readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return null; // not Linux
  }
}

/** Starts a measurement; add() accumulates intervals, so rounds interleaved with others can be summed. */
export class StealMeter {
  busy = 0;
  steal = 0;
  cpuMicros = 0;
  #t = null;
  #cpu = null;

  start() {
    this.#t = ticks();
    this.#cpu = process.cpuUsage();
    return this;
  }

  stop() {
    const c = process.cpuUsage(this.#cpu);
    this.cpuMicros += c.user + c.system;
    const now = ticks();
    if (this.#t && now) {
      const d = now.map((v, i) => v - this.#t[i]);
      this.steal += d[7];
      this.busy += d[0] + d[1] + d[2] + d[5] + d[6] + d[7];
    }
    return this;
  }

  /** Steal as a share of the busy time (ours plus stolen), in %; null where /proc/stat is missing. */
  get stealPct() {
    return this.busy > 0 ? (100 * this.steal) / this.busy : null;
  }

  /** CPU seconds this process used (all its threads) inside the measured intervals. */
  get cpuSeconds() {
    return this.cpuMicros / 1e6;
  }
}
