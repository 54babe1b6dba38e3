/** `keymesh status`: nodes, rules age, lag, conflicts, forks, quarantine, held entries. */
import { apiFor } from '../../admin/api.js';
import { serverUrl } from '../../admin/session.js';
import { formatStatus, ledgerStatus, type StatusReport } from '../../admin/status.js';
import { dataPaths, readSite } from '../../data-dir.js';
import type { Command } from '../command.js';

export const status: Command = {
  words: ['status'],
  usage: '',
  summary: "the site's health: nodes online, rules age, lag, conflicts, forks, quarantine",
  help: `Asks the running server (GET /api/status). Without one, reads the ledger file (read-only)
and reports what it alone can tell: which nodes are enrolled, conflicts, forks, quarantine and
entries held for a newer version; whether nodes are online needs the server.

  --server URL   ask this coordinator's HTTP API

Example: keymesh status --json`,
  flags: { server: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const paths = dataPaths(r.data);
    const site = readSite(paths);
    const url = serverUrl(r, paths);
    const report: StatusReport = url ? await apiFor(url).status() : ledgerStatus(paths.ledger, site.site, site.name);
    const source = url ?? paths.ledger;
    if (r.json) await r.out.write(JSON.stringify({ ok: true, live: url !== null, source, ...report }) + '\n');
    else await r.out.write(formatStatus(report, source, url !== null));
    return 0;
  },
};
