/**
 * The one driver suite every badge reader runs (hid, rdm6300, id12la, wiegand26, wiegand34,
 * sim), each through its lowest seam: `presentGood` feeds the seam the bytes or edges of a good
 * read of a uid, `presentGarbage` feeds it something that is not a card. The suite holds each
 * reader to the `Reader` contract of @keymesh/edge-agent (declared here as its own shape:
 * testkit does not depend on the agent): one read per good presentation, in canonical form;
 * an error and no read for garbage; no uid in any error; nothing after close. Timings are real
 * and short; nothing asserts speed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../processes.js';

/** What the suite needs of a reader (edge-agent's `Reader`). */
export interface SuiteReader {
  onRead(listener: (uid: string, atMs: number) => void): () => void;
  onError(listener: (err: Error) => void): () => void;
  close(): Promise<void>;
}

export interface ReaderHarness {
  /** Two different canonical uids (lowercase hex) this reader kind can carry. */
  uids: readonly [string, string];
  /** A fresh reader on a fresh seam. */
  open(): Promise<SuiteReader>;
  /** Feeds the seam a good read of `uidHex` (canonical). */
  presentGood(uidHex: string): Promise<void>;
  /** Feeds the seam something that is not a card (a bad checksum, wrong parity, a stray key...). */
  presentGarbage(): Promise<void>;
  /** Frees the seam after each test, once the reader is closed. */
  cleanup?(): Promise<void>;
}

interface Recorder {
  reads: string[];
  errors: Error[];
  /** Resolves once `n` reads (or errors) have arrived; fails after 5 s naming what is missing. */
  until(what: 'reads' | 'errors', n: number): Promise<void>;
}

function record(reader: SuiteReader): Recorder {
  const reads: string[] = [];
  const errors: Error[] = [];
  reader.onRead((uid) => reads.push(uid));
  reader.onError((err) => errors.push(err));
  const until = async (what: 'reads' | 'errors', n: number) => {
    const list = what === 'reads' ? reads : errors;
    await eventually(`${n} ${what} (reads ${reads.length}, errors ${errors.length})`, () => (list.length >= n ? true : undefined), 5000, 5);
  };
  return { reads, errors, until };
}

/** Every spelling of a uid an error message must not hold: its hex (any case) and its number. */
function spellings(uidHex: string): string[] {
  return [uidHex, uidHex.toUpperCase(), BigInt('0x' + uidHex).toString(10)];
}

function expectNoUid(errors: readonly Error[], uids: readonly string[]): void {
  for (const err of errors) {
    for (const uid of uids) for (const s of spellings(uid)) expect(err.message).not.toContain(s);
  }
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 150));

export function readerSuite(name: string, harness: ReaderHarness): void {
  describe(`reader suite: ${name}`, () => {
    let reader: SuiteReader | undefined;
    afterEach(async () => {
      await reader?.close();
      reader = undefined;
      await harness.cleanup?.();
    });

    it('reports each good read once, as the canonical uid', async () => {
      reader = await harness.open();
      const rec = record(reader);
      const [a, b] = harness.uids;
      await harness.presentGood(a);
      await rec.until('reads', 1);
      await harness.presentGood(b);
      await rec.until('reads', 2);
      // a doubled first read would show here as [a, a]
      expect(rec.reads).toEqual([a, b]);
      expect(rec.errors).toEqual([]);
    });

    it('reports garbage as an error and never as a read, and reads the next card', async () => {
      reader = await harness.open();
      const rec = record(reader);
      await harness.presentGarbage();
      await rec.until('errors', 1);
      await harness.presentGood(harness.uids[1]);
      await rec.until('reads', 1);
      expect(rec.reads).toEqual([harness.uids[1]]);
      expectNoUid(rec.errors, harness.uids);
    });

    it('stops reporting once closed', async () => {
      reader = await harness.open();
      const rec = record(reader);
      await harness.presentGood(harness.uids[0]);
      await rec.until('reads', 1);
      await reader.close();
      // a seam may refuse input once its reader has gone; either way nothing may be reported
      await harness.presentGood(harness.uids[1]).catch(() => {});
      await harness.presentGarbage().catch(() => {});
      await settle();
      expect(rec.reads).toEqual([harness.uids[0]]);
      expect(rec.errors).toEqual([]);
    });
  });
}
