/** `keymesh log`: the access log, one line per event; --follow keeps printing new ones. */
import { follow, formatRow, ledgerLog, serverLog, type LogQuery, type LogSource } from '../../admin/access-log.js';
import { apiFor } from '../../admin/api.js';
import { serverUrl } from '../../admin/session.js';
import { id, intFlag } from '../../admin/validate.js';
import { dataPaths, readSite } from '../../data-dir.js';
import { str, type Command } from '../command.js';

export const log: Command = {
  words: ['log'],
  usage: '[--member M] [--resource R] [--limit N] [--follow]',
  summary: 'the access log: who tapped where, allowed or denied and why',
  help: `Lists access events newest last, one line each: time (local), member, resource,
allow/deny (or door / session events) and the reason in words. Read through the running
server's API, or from the ledger file (read-only) when no server runs.

  --member M     only this member's events
  --resource R   only this resource's events
  --limit N      how many (1-1000, default 20)
  --follow       keep printing new events (polls each second) until Ctrl-C
  --server URL   read from this coordinator's HTTP API

Example: keymesh log --resource laser --limit 50`,
  flags: { member: { type: 'string' }, resource: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' }, server: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const member = str(r, 'member');
    const resource = str(r, 'resource');
    const limitText = str(r, 'limit');
    const q: LogQuery = {
      ...(member === undefined ? {} : { member: id(member, '--member') }),
      ...(resource === undefined ? {} : { resource: id(resource, '--resource') }),
      limit: limitText === undefined ? 20 : intFlag(limitText, '--limit', 1, 1000)!,
    };
    const paths = dataPaths(r.data);
    const site = readSite(paths);
    const url = serverUrl(r, paths);
    const src: LogSource = url ? serverLog(apiFor(url), url) : ledgerLog(paths.ledger, site.site);
    try {
      if (r.flags.follow === true) {
        // Without a server nothing syncs into the file, so only admin commands add to it.
        if (!url) process.stderr.write(`keymesh: no server runs for ${paths.dir}: events arrive only while \`keymesh serve\` runs.\n`);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await follow(src, q, async (rows) => {
            for (const row of rows) await r.out.write((r.json ? JSON.stringify(row) : formatRow(row)) + '\n');
            await r.out.flush();
          }, stop.signal);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return 0;
      }
      const page = await src.page(q);
      const rows = [...page.rows].reverse();
      if (r.json) {
        await r.out.write(JSON.stringify({ ok: true, source: src.where, rows, next: page.next }) + '\n');
      } else if (rows.length === 0) {
        await r.out.write(`No access events${q.member ? ` of ${q.member}` : ''}${q.resource ? ` at ${q.resource}` : ''} in ${src.where}.\n`);
      } else {
        for (const row of rows) await r.out.write(formatRow(row) + '\n');
        if (page.next) await r.out.write(`(older events exist: raise --limit)\n`);
      }
      return 0;
    } finally {
      await src.close();
    }
  },
};
