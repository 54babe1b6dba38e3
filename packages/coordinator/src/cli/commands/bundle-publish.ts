/** `keymesh bundle publish FILE --version V [--to NODE…]`: store a bundle and sign its bundle.publish (bundles/publish.ts). */
import { Ledger } from '@keymesh/ledger';
import { PublicKeyHex } from '@keymesh/protocol';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { publishBundle } from '../../bundles/publish.js';
import { CoordinatorError } from '../../errors.js';
import { str, type Command } from '../command.js';

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** Node keys for --to values: a key as given, a name looked up among the enrolled nodes. */
function resolveNodes(values: string[], ledgerPath: string, site: string): string[] {
  const names = values.filter((v) => !PublicKeyHex.safeParse(v).success);
  if (names.length === 0) return values;
  const ledger = Ledger.open(ledgerPath, { site, readonly: true });
  try {
    const nodes = ledger.nodes().filter((n) => !n.retired);
    return values.map((v) => {
      if (PublicKeyHex.safeParse(v).success) return v;
      const found = nodes.filter((n) => n.name === v);
      if (found.length === 1) return found[0]!.node;
      throw new CoordinatorError(found.length ? 'BAD_CONFIG' : 'NOT_FOUND', found.length
        ? `${found.length} enrolled nodes are named ${JSON.stringify(v)}; give the key of the one meant (\`keymesh status\` lists them).`
        : `no enrolled node is named ${JSON.stringify(v)}; give a node's name or key as \`keymesh status\` lists them.`);
    });
  } finally {
    ledger.close();
  }
}

export const bundlePublish: Command = {
  words: ['bundle', 'publish'],
  usage: 'FILE --version V',
  summary: 'store a software bundle for the nodes and sign its bundle.publish',
  help: `Cuts FILE into chunks (FastCDC 4/16/64 KiB), stores them and its manifest in the data
folder's blob store (blobs.db), then signs a bundle.publish naming the manifest, the version,
the size and the target nodes. Nodes fetch only the chunks they lack, over MQTT.

A bundle is an uncompressed tar with fixed mtimes (tar --mtime=@0 --sort=name, or npm pack
unpacked with gunzip): a compressed or time-stamped file changes every chunk, and an upgrade
then ships all of it.

  --version V   the bundle's version, such as 1.4.2 or 1.5.0-rc.1 (required)
  --to NODE     a target node, by name or key (repeat for several; default every node)
${ADMIN_HELP}

Example: keymesh bundle publish keymesh-edge-1.4.2.tar --version 1.4.2 --to door-1 --to laser`,
  flags: { ...ADMIN_FLAGS, version: { type: 'string' }, to: { type: 'string', multiple: true } },
  positionals: { min: 1, max: 1 },
  run: (r) => {
    const version = str(r, 'version', true);
    const to = (r.flags.to as string[] | undefined) ?? [];
    return withAdmin(r, async (s) => {
      const targets = to.length ? resolveNodes(to, s.paths.ledger, s.site.site) : 'all';
      const p = await publishBundle({
        file: r.positionals[0]!, version, targets, adminKey: s.key, site: s.site.site, target: s.target, blobs: s.paths.blobs,
        onProgress: (done, total) => r.progress(`bundle: read and chunked ${mib(done)} of ${mib(total)}`),
      });
      const who = p.targets === 'all' ? 'every node' : `${p.targets.length} node${p.targets.length === 1 ? '' : 's'}`;
      const sentence = `Bundle ${p.version} published to ${who}: ${mib(p.size)} in ${p.manifest.chunks.length} chunks (${mib(p.newBytes)} new to this store), manifest ${p.id}.`;
      return reportSigned(r, p.signed, sentence, { manifest: p.id, version: p.version, size: p.size, chunks: p.manifest.chunks.length, newBytes: p.newBytes, targets: p.targets });
    });
  },
};
