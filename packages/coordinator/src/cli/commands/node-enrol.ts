import { existsSync } from 'node:fs';
import { UsageError } from '@keymesh/ledger/cli';
import { PublicKeyHex } from '@keymesh/protocol';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { signAndSubmit } from '../../admin/writer.js';
import { runningServer } from '../../data-dir.js';
import { CoordinatorError } from '../../errors.js';
import { defaultBrokerUrl, planEnrol, writeProvisioning } from '../../provision.js';
import { str, type Command } from '../command.js';

function publicKey(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!PublicKeyHex.safeParse(v).success) throw new UsageError('USAGE', `--${flag} "${v}" is not a node key: give its public key, 64 lowercase hex characters (keymesh status lists them).`);
  return v;
}

export const nodeEnrol: Command = {
  words: ['node', 'enrol'],
  usage: 'NAME --kind door|machine --resource ID',
  summary: "enrol a door or machine node: an admin-signed node.enrol and the edge's provisioning file",
  help: `Signs a node.enrol with the admin key and writes the provisioning file (mode 0600) that
\`keymesh-edge enrol FILE\` reads on the Pi: the site, the broker's address, the coordinator's key,
the site card key and the node's key. Carry the file to the Pi and delete it: it is a secret.

  --kind K         door or machine (required)
  --resource ID    the resource the node controls (required; add it first with keymesh resource add)
  --node-key KEY   the public key the Pi made itself (default: a key is made here and travels
                   in the file)
  --replaces KEY   the key of the node this one replaces (a re-imaged or restored Pi); its
                   history stays linked and its old feed is retired at its head
  --broker URL     the broker address the node uses (default mqtt://<this host>:<MQTT port>)
  --external       the broker is an external one (Mosquitto): the file carries the node's broker
                   password; regenerate the broker's files with keymesh broker mosquitto-conf
  --out FILE       where to write the file (default ./NAME.provisioning.json)
${ADMIN_HELP}

Example: keymesh node enrol front-door --kind door --resource front-door`,
  flags: {
    ...ADMIN_FLAGS,
    kind: { type: 'string' }, resource: { type: 'string' }, 'node-key': { type: 'string' }, replaces: { type: 'string' },
    broker: { type: 'string' }, external: { type: 'boolean' }, out: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const name = r.positionals[0]!;
    const kind = str(r, 'kind', true);
    if (kind !== 'door' && kind !== 'machine') throw new UsageError('USAGE', `--kind "${kind}" is not a node kind: give door or machine.`);
    const resource = str(r, 'resource', true);
    const out = str(r, 'out') ?? `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.provisioning.json`;
    if (existsSync(out)) throw new CoordinatorError('FILE_EXISTS', `${out} exists; nothing was signed. Move it away or pass --out.`);
    return withAdmin(r, async (s) => {
      const plan = await planEnrol({
        name, kind, resource, key: publicKey('node-key', str(r, 'node-key')), replaces: publicKey('replaces', str(r, 'replaces')),
        brokerUrl: str(r, 'broker') ?? defaultBrokerUrl(runningServer(s.paths)?.mqtt), external: r.flags.external === true, out,
      }, s.paths, s.site, s.target);
      // The file first: an entry signed for a key whose seed was then lost would enrol a node nobody can run.
      writeProvisioning(plan);
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'node.enrol', plan.body, [`node/${plan.body.node}`]);
      if (r.json) {
        await r.out.write(JSON.stringify({ ok: true, node: plan.body.node, name, kind, resource, provisioning: plan.out, seq: signed.seq, hash: signed.hash, where: signed.where }) + '\n');
      } else {
        await r.out.write(`Node "${name}" enrolled (${kind}, resource ${resource}).
  node key           ${plan.body.node}
  provisioning file  ${plan.out} (mode 0600: a secret; carry it to the Pi, then delete it)
  signed             node.enrol, seq ${signed.seq} of the admin's feed, at ${signed.where}

On the Pi: keymesh-edge enrol ${plan.out.split('/').pop()}
`);
      }
      return 0;
    });
  },
};
