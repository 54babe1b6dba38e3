// LedgerOptions.pageCacheKiB: SQLite's page cache per connection (an edge node passes less than
// the coordinator's 32 MiB default to stay within its memory budget, DESIGN §12).
import { describe, it, expect, afterAll } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEntry } from '@keymesh/protocol';
import { TestSite, memberBody, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-ledger';
import { DEFAULT_PAGE_CACHE_KIB, Ledger, type LedgerOptions } from './ledger.js';
import { LedgerError } from './errors.js';

const site = new TestSite();
const opened: Ledger[] = [];
afterAll(() => opened.forEach((l) => l.close()));
const open = (path: string, opts: Partial<LedgerOptions> = {}) => {
  const l = Ledger.open(path, { site: site.site, durability: 'process', ...opts });
  opened.push(l);
  return l;
};

describe('pageCacheKiB', () => {
  it('is 32 MiB unless set', () => {
    const l = open(join(tempDir(), 'default.db'));
    expect(DEFAULT_PAGE_CACHE_KIB).toBe(32_768);
    expect(l.sqlitePageCacheKiB).toBe(DEFAULT_PAGE_CACHE_KIB);
  });

  it('sets the connection page cache, and keeps it after the state is read on a reopen', () => {
    const path = join(tempDir(), 'edge.db');
    const l = open(path, { pageCacheKiB: 4096 });
    l.ingest([encodeEntry(site.genesis)]);
    l.append(testKey(1), 'member.put', memberBody('m1'));
    expect(l.sqlitePageCacheKiB).toBe(4096);
    l.close();
    // loadState reads the rules with a smaller cache of its own, then puts the option's back.
    const again = open(path, { pageCacheKiB: 1024 });
    expect(again.policy.member('m1')).toBeDefined();
    expect(again.sqlitePageCacheKiB).toBe(1024);
  });

  it('refuses a value that is not a whole number of KiB ≥ 256, before any file is made', () => {
    const path = join(tempDir(), 'never.db');
    for (const pageCacheKiB of [0, 255, -4096, 1024.5, Number.NaN, Infinity, '4096' as unknown as number]) {
      let err: unknown;
      try {
        open(path, { pageCacheKiB });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LedgerError);
      expect(err).toMatchObject({ code: 'BAD_OPTION', details: { option: 'pageCacheKiB' } });
      expect((err as Error).message).toContain('pageCacheKiB');
      expect(existsSync(path)).toBe(false);
    }
  });
});
