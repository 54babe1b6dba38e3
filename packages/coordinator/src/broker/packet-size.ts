/**
 * The largest MQTT packet a client may send. Neither aedes nor mqtt-packet has a limit: the
 * parser buffers a packet whole before it is handled, so one CONNECT or PUBLISH announcing
 * 256 MB would be held in memory. Counting the frames as the broker reads them cuts the client
 * at the fixed header that announces too much, before its body is buffered.
 */
import type { Duplex } from 'node:stream';

/** Follows MQTT framing across chunks: a type byte, a remaining length of 1-4 bytes, the body. */
export class FrameMeter {
  private body = 0;
  private lenBytes = -1; // -1: the next byte is a packet's first
  private len = 0;
  private mul = 1;

  constructor(readonly maxPacketBytes: number) {}

  /** False once a packet larger than the limit (header included) is announced, or a length is malformed. */
  feed(buf: Uint8Array): boolean {
    let i = 0;
    while (i < buf.length) {
      if (this.body > 0) {
        const skip = Math.min(this.body, buf.length - i);
        this.body -= skip;
        i += skip;
      } else if (this.lenBytes < 0) {
        i++;
        this.lenBytes = 0;
        this.len = 0;
        this.mul = 1;
      } else {
        const b = buf[i++]!;
        this.len += (b & 0x7f) * this.mul;
        this.mul *= 128;
        this.lenBytes++;
        if (b & 0x80) {
          if (this.lenBytes >= 4) return false;
          continue;
        }
        if (1 + this.lenBytes + this.len > this.maxPacketBytes) return false;
        this.body = this.len;
        this.lenBytes = -1;
      }
    }
    return true;
  }
}

/**
 * Meters what the broker reads from `conn`: aedes 1.2 pulls every connection with `read()`, so
 * the check wraps that one method of this one stream. A packet over the limit destroys the
 * connection (aedes then closes the client) and `onTooLarge` is told.
 */
export function limitPacketSize(conn: Duplex, maxPacketBytes: number, onTooLarge: () => void): void {
  const meter = new FrameMeter(maxPacketBytes);
  const read = conn.read.bind(conn);
  let cut = false;
  conn.read = (size?: number) => {
    if (cut) return null;
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array && !meter.feed(chunk)) {
      cut = true;
      onTooLarge();
      conn.destroy();
      return null;
    }
    return chunk;
  };
}
