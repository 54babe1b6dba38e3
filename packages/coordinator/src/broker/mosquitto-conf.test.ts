/** The generated Mosquitto ACL says what acl.ts says, topic by topic (Mosquitto's matching, modelled). */
import { topicMatches } from '@keymesh/ledger';
import { topics } from '@keymesh/protocol';
import { siteAcl, type Principal } from './acl.js';
import { mosquittoAclFile, mosquittoConf, type BrokerUser } from './mosquitto-conf.js';

const SITE = 'ab'.repeat(32);
const A = '1a'.repeat(32);
const B = '2b'.repeat(32);
const C = '3c'.repeat(32);
const t = topics(SITE);
const nodes: BrokerUser[] = [
  { node: A, name: 'door', role: 'edge', retired: false },
  { node: B, name: 'old', role: 'edge', retired: true },
  { node: C, name: 'coord', role: 'coordinator', retired: false },
];
const aclText = mosquittoAclFile(SITE, nodes, 'test');

/** What Mosquitto's default ACL check grants `user` for `access` on `topic` (patterns for all, topic lines for its own block). */
function mosquittoAllows(user: string, access: 'read' | 'write', topic: string): boolean {
  let block: string | null = null;
  for (const raw of aclText.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [kw, a, pattern] = line.split(/\s+/);
    if (kw === 'user') {
      block = a!;
      continue;
    }
    const grants = (a === 'readwrite' || a === access) && pattern !== undefined;
    if (kw === 'pattern' && grants && topicMatches(pattern!.replace(/%u/g, user), topic)) return true;
    if (kw === 'topic' && block === user && grants && topicMatches(pattern!, topic)) return true;
  }
  return false;
}

function candidates(): string[] {
  const keys = [A, B, C];
  const out = ['$SYS/x', `${t.root}`, `${t.root}/other/${A}`, topics('cd'.repeat(32)).feed(A)];
  for (const k of keys) {
    out.push(t.feed(k), t.head(k), t.status(k), t.state(k), t.have(k), t.cmd(k), t.blob(`${k}/held`));
    for (const to of keys) out.push(t.want(k, to), t.batch(k, to), t.blob(`${k}/get/${to}`), t.blob(`${k}/put/${to}`));
  }
  return out;
}

it.each<[string, Principal]>([
  ['an edge node', { kind: 'node', key: A, role: 'edge' }],
  ['a coordinator', { kind: 'node', key: C, role: 'coordinator' }],
])('grants %s at Mosquitto what acl.ts grants it, publish (retain aside) and delivery', (_name, who) => {
  const acl = siteAcl(SITE);
  const publishers: Principal[] = [{ kind: 'node', key: A }, { kind: 'node', key: B }, { kind: 'node', key: C, role: 'coordinator' }, { kind: 'admin', key: B }];
  for (const topic of candidates()) {
    expect([topic, mosquittoAllows(who.key, 'write', topic)]).toEqual([topic, acl.publish(who, topic, false).ok]);
    // Delivery matters only for what someone may publish (the embedded broker lets a coordinator
    // subscribe to the whole root; Mosquitto lists its kinds: the same messages reach it).
    if (!publishers.some((p) => acl.publish(p, topic, false).ok)) continue;
    expect([topic, mosquittoAllows(who.key, 'read', topic)]).toEqual([topic, acl.forward(who, topic).ok]);
  }
});

it('keeps retired nodes out, and a name or a comment cannot add a directive', () => {
  expect(aclText).not.toContain(B);
  const evil = mosquittoAclFile(SITE, [{ node: C, name: 'x\ntopic readwrite #', role: 'coordinator', retired: false }], 'y\r\npattern readwrite #');
  expect(evil.split('\n').filter((l) => /^(topic|pattern)\s+readwrite/.test(l))).toEqual([]);
  expect(() => mosquittoConf(SITE, { passwordFile: '/tmp/a\nacl_file /x', aclFile: '/tmp/b' })).toThrow(/line break/);
});
