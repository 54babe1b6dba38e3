/**
 * Two connected Duplex streams: what is written to one is read from the other (Node 22's
 * `stream.duplexPair`, which Node 20 lacks; same algorithm, one chunk in flight per direction
 * so backpressure works).
 */
import { Duplex, type DuplexOptions } from 'node:stream';

type Callback = (err?: Error | null) => void;

class DuplexSide extends Duplex {
  private otherSide: DuplexSide | null = null;
  private pending: Callback | null = null;

  link(other: DuplexSide): void {
    this.otherSide = other;
  }

  override _read(): void {
    const cb = this.pending;
    if (cb) {
      this.pending = null;
      cb();
    }
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: Callback): void {
    const other = this.otherSide!;
    if (chunk.length === 0) {
      process.nextTick(callback);
    } else {
      other.push(chunk);
      other.pending = callback;
    }
  }

  override _final(callback: Callback): void {
    this.otherSide!.on('end', callback);
    this.otherSide!.push(null);
  }
}

export function duplexPair(options?: DuplexOptions): [Duplex, Duplex] {
  const a = new DuplexSide(options);
  const b = new DuplexSide(options);
  a.link(b);
  b.link(a);
  return [a, b];
}
