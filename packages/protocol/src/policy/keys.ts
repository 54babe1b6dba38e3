/** Which policy register an entry writes (DESIGN §5, and `bundle/<manifest>` for §8); null for access events. */
import type { AnyEntry } from '../schemas/entry.js';

export function policyKeyOf(e: AnyEntry): string | null {
  switch (e.type) {
    case 'site.genesis':
    case 'admins.change':
      return 'admins';
    case 'node.enrol':
    case 'node.retire':
      return `node/${e.body.node}`;
    case 'member.put':
      return `member/${e.body.member}`;
    case 'card.bind':
    case 'card.unbind':
      return `card/${e.body.card}`;
    case 'resource.put':
      return `resource/${e.body.resource}`;
    case 'resource.lockout':
      return `lockout/${e.body.resource}`;
    case 'cert.grant':
    case 'cert.revoke':
      return `cert/${e.body.member}/${e.body.cert}`;
    case 'bundle.publish':
      return `bundle/${e.body.manifest}`;
    default:
      return null;
  }
}
