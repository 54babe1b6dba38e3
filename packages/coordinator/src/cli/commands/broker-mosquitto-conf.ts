import { writeMosquittoConf } from '../../broker/mosquitto-conf.js';
import { port, str, type Command } from '../command.js';

export const brokerMosquittoConf: Command = {
  words: ['broker', 'mosquitto-conf'],
  usage: '',
  summary: 'write a Mosquitto password file, ACL and mosquitto.conf for the enrolled nodes (external broker)',
  help: `For a site whose nodes use an existing Mosquitto instead of the embedded broker
(keymesh serve --broker URL). Writes three files from the site's enrolled, unretired nodes:

  passwd          one user per node: its public key (hex), with a password derived from the
                  site's broker secret (mode 0600; Mosquitto's PBKDF2-SHA512 hashes)
  acl             what each node may publish and read: only topics that name it first, and
                  what is addressed to it; coordinators also relay feeds, heads and commands
  mosquitto.conf  a listener, allow_anonymous false, the two files, max_packet_size

The broker secret (broker.secret in the data folder, made on first use, mode 0600) is what the
passwords derive from; \`keymesh node enrol\` puts each node's password in its provisioning
file. Keep it like a key. Re-run this command after every enrolment or retirement, then have
Mosquitto reload (systemctl reload mosquitto, or kill -HUP its pid). The ledger is only read, so
this works while \`keymesh serve\` runs.

  --out DIR        where the files go (default <data>/mosquitto)
  --broker-secret  also write passwords.txt (mode 0600): each node's plain password, derived
                   from the broker secret, for nodes provisioned before the site used an
                   external broker (their provisioning files hold none); a secret: delete it
                   once the nodes have theirs
  --port N         the listener's port in mosquitto.conf (default 1883)
  --host ADDR      the listener's address (default: every interface)

Example: keymesh broker mosquitto-conf --data /var/lib/keymesh --out /etc/mosquitto/keymesh
         mosquitto -c /etc/mosquitto/keymesh/mosquitto.conf`,
  flags: { out: { type: 'string' }, 'broker-secret': { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const host = str(r, 'host');
    const out = str(r, 'out');
    const res = writeMosquittoConf({ dataDir: r.data, port: port(r, 'port', 1883), passwords: r.flags['broker-secret'] === true, ...(out ? { outDir: out } : {}), ...(host ? { host } : {}) });
    if (r.json) {
      await r.out.write(JSON.stringify({ ok: true, ...res }) + '\n');
      return 0;
    }
    const coordinators = res.users.filter((u) => u.role === 'coordinator').length;
    await r.out.write(`Mosquitto files for site ${res.site} (${res.users.length} node${res.users.length === 1 ? '' : 's'}, ${coordinators} coordinator${coordinators === 1 ? '' : 's'}):
  password file   ${res.passwordFile}
  ACL file        ${res.aclFile}
  mosquitto.conf  ${res.confFile}
${res.plainPasswordsFile ? `  node passwords  ${res.plainPasswordsFile}  (plain: delete it once the nodes have theirs)\n` : ''}
Mosquitto must be able to read them: a Mosquitto running as its own user cannot enter the
data folder (mode 0700), so write them elsewhere (--out /etc/mosquitto/keymesh) and give it
the folder (chown -R mosquitto: /etc/mosquitto/keymesh). Then
  mosquitto -c ${res.confFile}
or copy its lines into your configuration and reload Mosquitto. Serve with
  keymesh serve --data ${r.data} --broker mqtt://<broker host>:1883
Re-run this command after every enrolment or retirement.
`);
    return 0;
  },
};
