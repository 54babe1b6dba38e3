/**
 * `keymesh unlock NODE`: a signed command (DESIGN §7), not an entry. It goes live over the
 * server's broker, so it needs a running server; the node checks it and logs a door.event
 * naming the command. The door stays open for the resource's own unlockSeconds (a command
 * carries no duration).
 */
import { makeCommand, MAX_COMMAND_TTL_MS, type NodeValue } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { CoordinatorError } from '../../errors.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { id, intFlag, publicKey } from '../../admin/validate.js';
import { str, type Command } from '../command.js';

export const unlock: Command = {
  words: ['unlock'],
  usage: 'NODE [--resource R]',
  summary: 'open a door now from here (a signed command; needs the running server)',
  help: `Signs an unlock command for the node (its public key, as \`keymesh status\` lists) and
hands it to the running server, which publishes it live on the node's command topic. The
node acts on it once, within its validity, and logs the unlock with this command's id.

  --resource R   the resource to unlock (default: the node's only resource)
  --ttl S        seconds the command stays valid (1-${MAX_COMMAND_TTL_MS / 1000}, default 30)
${ADMIN_HELP}

Example: keymesh unlock 3f2a…e91c --resource front-door`,
  flags: { ...ADMIN_FLAGS, resource: { type: 'string' }, ttl: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const node = publicKey(r.positionals[0]!, 'NODE');
    const ttl = str(r, 'ttl');
    const ttlMs = ttl === undefined ? 30_000 : intFlag(ttl, '--ttl', 1, MAX_COMMAND_TTL_MS / 1000)! * 1000;
    const given = str(r, 'resource');
    const wanted = given === undefined ? undefined : id(given, '--resource');
    return withAdmin(r, async (s) => {
      if (s.target.kind !== 'server' || !s.target.command) {
        throw new CoordinatorError('SERVER_UNREACHABLE', `an unlock travels live through the coordinator's broker, and no server runs for ${s.paths.dir}. Start it with \`keymesh serve --data ${s.paths.dir}\`, or give --server URL.`);
      }
      const n = (await s.target.policy(`node/${node}`))?.value as NodeValue | null | undefined;
      if (!n || n.retired) throw new CoordinatorError('NOT_FOUND', `node ${node.slice(0, 12)}… is ${n ? 'retired' : 'not enrolled'} at ${s.target.where}; \`keymesh status\` lists the nodes.`, { node });
      const resource = wanted ?? (n.resources.length === 1 ? n.resources[0]! : undefined);
      if (resource === undefined) throw new UsageError('USAGE', `node "${n.name}" controls ${n.resources.length ? n.resources.join(', ') : 'no resource'}: give --resource.`);
      if (!n.resources.includes(resource)) throw new UsageError('USAGE', `--resource ${resource}: node "${n.name}" controls ${n.resources.join(', ') || 'no resource'}; it would refuse the command.`);
      const cmd = makeCommand({ site: s.site.site, node, resource, ttlMs }, s.key);
      const res = await s.target.command(cmd);
      if (!res.ok) throw new CoordinatorError('API_ERROR', `the server refused the unlock: ${res.code}: ${res.message}`, { code: res.code });
      if (r.json) await r.out.write(JSON.stringify({ ok: true, command: cmd.id, node, resource, expiresAt: cmd.expiresAt }) + '\n');
      else await r.out.write(`Unlock of ${resource} sent to node "${n.name}" (command ${cmd.id}, valid until ${new Date(cmd.expiresAt).toLocaleTimeString()}).\nThe node logs a door event naming this command when it acts; see \`keymesh log --resource ${resource}\`.\n`);
      return 0;
    });
  },
};
