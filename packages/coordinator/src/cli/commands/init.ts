import { initSite } from '../../site-init.js';
import { str, type Command } from '../command.js';

export const init: Command = {
  words: ['init'],
  usage: '--site "Name"',
  summary: 'create a new site: data folder, coordinator key, genesis, admin keys, site card key',
  help: `Creates the data folder with the coordinator's key, the site's genesis and the site card
key, and writes two admin key files (mode 0600) outside it: the daily key, which signs the
admin commands, and the recovery key, which removes a lost or forked daily key. Print the
recovery key or copy it to offline storage, then delete it from this machine.

  --site NAME   the site's name (required)
  --keys DIR    where the admin key files go (default ~/.config/keymesh)

Example: keymesh init --site "Hackspace" --data /var/lib/keymesh`,
  flags: { site: { type: 'string' }, keys: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const res = initSite({ name: str(r, 'site', true), data: r.data, keysDir: str(r, 'keys') });
    if (r.json) {
      await r.out.write(JSON.stringify({ ok: true, site: res.site, name: res.name, data: res.paths.dir, coordinator: res.coordinator, dailyAdminKey: res.dailyKeyFile, recoveryAdminKey: res.recoveryKeyFile, dailyAdmin: res.daily.publicKey }) + '\n');
      return 0;
    }
    await r.out.write(`Site "${res.name}" created.
  site id          ${res.site}
  data folder      ${res.paths.dir}
  coordinator key  ${res.coordinator}
  daily admin key  ${res.dailyKeyFile}
  recovery key     ${res.recoveryKeyFile}

The recovery key removes a lost or forked daily key. Print it or copy it to offline storage
now, then delete it from this machine: whoever holds it runs this site.

Next: keymesh serve --data ${res.paths.dir}
`);
    return 0;
  },
};
