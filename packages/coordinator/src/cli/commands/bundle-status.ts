/** `keymesh bundle status`: which node holds which bundle version (bundles/status.ts). */
import { Ledger } from '@keymesh/ledger';
import { readReportsFile } from '../../bundles/held-reports.js';
import { bundleStatus, formatBundleStatus } from '../../bundles/status.js';
import { dataPaths, readSite } from '../../data-dir.js';
import type { Command } from '../command.js';

export const bundleStatusCommand: Command = {
  words: ['bundle', 'status'],
  usage: '',
  summary: 'which node holds which bundle version',
  help: `Lists the published bundles (the ledger's bundle.publish entries) and, for each target
node, whether its latest report says it holds the bundle, and each node's held versions. Nodes
report what they hold on blob/<node>/held; \`keymesh serve\` keeps the reports in blobs.db.
Reads the data folder (read-only), whether or not a server runs.

Example: keymesh bundle status --json`,
  flags: {},
  positionals: { min: 0, max: 0 },
  async run(r) {
    const paths = dataPaths(r.data);
    const site = readSite(paths);
    const ledger = Ledger.open(paths.ledger, { site: site.site, readonly: true });
    let status;
    try {
      status = bundleStatus(ledger, readReportsFile(paths.blobs, site.site));
    } finally {
      ledger.close();
    }
    if (r.json) await r.out.write(JSON.stringify({ ok: true, source: paths.dir, ...status }) + '\n');
    else await r.out.write(formatBundleStatus(status, paths.dir));
    return 0;
  },
};
