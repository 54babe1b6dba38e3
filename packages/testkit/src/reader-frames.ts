/**
 * What badge readers put on the wire, for the reader drivers' tests: EM4100 serial frames
 * (RDM6300, ID-12LA) and Wiegand 26/34 bit patterns as timed edges of D0 and D1. Written from
 * the datasheets, apart from the drivers, so the tests check the drivers' decoding.
 */

/** An RDM6300 (STX, 10 hex, 2 hex XOR checksum, ETX) or ID-12LA (… CR LF ETX) frame of a 4-byte uid behind `version`. */
export function emSerialFrame(framing: 'rdm6300' | 'id12la', uidHex: string, opts: { version?: number; checksum?: number; lower?: boolean } = {}): Buffer {
  if (!/^[0-9a-f]{8}$/i.test(uidHex)) throw new Error('emSerialFrame: an EM4100 uid is 4 bytes of hex');
  const bytes = [opts.version ?? 0x1a, ...Buffer.from(uidHex, 'hex')];
  const sum = opts.checksum ?? bytes.reduce((a, b) => a ^ b, 0);
  const ascii = [...bytes, sum].map((b) => b.toString(16).padStart(2, '0')).join('');
  const tail = framing === 'id12la' ? [0x0d, 0x0a, 0x03] : [0x03];
  return Buffer.concat([Buffer.from([0x02]), Buffer.from(opts.lower ? ascii : ascii.toUpperCase(), 'ascii'), Buffer.from(tail)]);
}

/** The bits of a Wiegand frame: 26 (P, facility 8, number 16, P) from a 3-byte uid, 34 (P, 32 data, P) from a 4-byte uid. */
export function wiegandBits(bits: 26 | 34, uidHex: string): number[] {
  const dataBits = bits - 2;
  if (uidHex.length * 4 !== dataBits) throw new Error(`wiegandBits: a Wiegand ${bits} uid is ${dataBits / 8} bytes`);
  const data = [...BigInt('0x' + uidHex).toString(2).padStart(dataBits, '0')].map(Number);
  const half = dataBits / 2;
  const ones = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const even = ones(data.slice(0, half)) % 2; // makes the first half plus parity even
  const odd = 1 - (ones(data.slice(half)) % 2); // makes the second half plus parity odd
  return [even, ...data, odd];
}

export interface WiegandEdge {
  /** 0 for D0, 1 for D1. */
  line: 0 | 1;
  rising: boolean;
  atUs: number;
}

/** The edges of `bits` sent from `startUs`: each bit a low pulse of `pulseUs` on its line, one every `intervalUs`. */
export function wiegandEdges(bits: readonly number[], opts: { startUs?: number; pulseUs?: number; intervalUs?: number } = {}): WiegandEdge[] {
  const { startUs = 1_000_000, pulseUs = 50, intervalUs = 2000 } = opts;
  const out: WiegandEdge[] = [];
  bits.forEach((b, i) => {
    const line = b ? 1 : 0;
    const t = startUs + i * intervalUs;
    out.push({ line, rising: false, atUs: t }, { line, rising: true, atUs: t + pulseUs });
  });
  return out;
}
