import { enrol } from '../../enrol.js';
import { DEFAULT_EDGE_DATA_DIR } from '../../data-dir.js';
import { flag, type EdgeCommand } from '../command.js';

export const enrolCommand: EdgeCommand = {
  name: 'enrol',
  summary: 'make this node\'s data folder from the provisioning file `keymesh node enrol` wrote',
  usage: 'PROVISIONING_FILE',
  help: `Stores the site (its genesis, checked against the site id), the broker, the coordinators' keys
and the site card key, and the node's own key (files mode 0600, folder 0700). The key comes
from the file when the operator made it there; otherwise it is made here and printed, and an
admin enrols it: \`keymesh node enrol NAME --kind … --resource … --node-key KEY\`.
Delete the provisioning file afterwards: it holds the site card key.

  --data DIR   the data folder (default ./${DEFAULT_EDGE_DATA_DIR})

Example: keymesh-edge enrol /boot/firmware/front-door.json --data /var/lib/keymesh-edge`,
  flags: { data: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const res = enrol(r.positionals[0]!, flag(r, 'data') ?? DEFAULT_EDGE_DATA_DIR);
    const e = res.enrolment;
    if (r.json) {
      await r.out.write(JSON.stringify({ ok: true, data: res.paths.dir, site: e.site, siteName: e.siteName, node: e.node, key: res.key.publicKey, keyMadeHere: res.keyMadeHere }) + '\n');
      return 0;
    }
    await r.out.write(`Enrolled "${e.node.name}" (${e.node.kind}, resource ${e.node.resource}) in site "${e.siteName}".
Data folder: ${res.paths.dir}
Node key:    ${res.key.publicKey}
${res.keyMadeHere ? `This key was made here: an admin must enrol it before this node decides anything:
  keymesh node enrol ${JSON.stringify(e.node.name)} --kind ${e.node.kind} --resource ${e.node.resource} --node-key ${res.key.publicKey}
` : ''}Delete the provisioning file now (it holds the site card key), then start the agent:
  keymesh-edge run --config edge.yaml
`);
    return 0;
  },
};
