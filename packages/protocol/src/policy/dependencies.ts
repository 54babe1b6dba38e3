/**
 * Which policy keys' values depend on which others (a trainer's certifications on the
 * trainer's member record, a panel's on its node, a lockout on its member and node), so a store
 * rewrites, and the state recomputes, only what a change can have changed.
 */
import type { AnyEntry } from '../schemas/entry.js';

export class DependencyIndex {
  private readonly dependsOn = new Map<string, Set<string>>();
  /** Trainer and panel certifications: also judged by resources (which certs a panel may issue). */
  private readonly byResources = new Set<string>();
  /** Lockouts: also judged by resources and by certifications (who may press a machine's button). */
  private readonly byCerts = new Set<string>();
  /** Public key → member ids whose records (counting or not) list it. */
  private readonly keyOwners = new Map<string, Set<string>>();

  /** Records what the authority of `e` (writing `key`) depends on. */
  note(e: AnyEntry, key: string): void {
    const dep = (on: string) => {
      let set = this.dependsOn.get(on);
      if (!set) this.dependsOn.set(on, (set = new Set()));
      set.add(key);
    };
    if (e.type === 'cert.grant' || e.type === 'cert.revoke') {
      const trainer = e.type === 'cert.grant' ? e.body.grantedBy : e.body.revokedBy;
      if (trainer !== null) {
        dep(`member/${trainer}`);
        dep(`node/${e.author}`);
        this.byResources.add(key);
      }
    } else if (e.type === 'resource.lockout') {
      dep(`node/${e.author}`);
      if (e.body.by !== null) dep(`member/${e.body.by}`);
      this.byResources.add(key);
      this.byCerts.add(key);
    } else if (e.type === 'node.enrol' && e.body.replaces) {
      // The replaced key's register reads this enrolment as its retirement.
      let set = this.dependsOn.get(key);
      if (!set) this.dependsOn.set(key, (set = new Set()));
      set.add(`node/${e.body.replaces.node}`);
    } else if (e.type === 'member.put') {
      for (const k of e.body.keys) {
        let owners = this.keyOwners.get(k.key);
        if (!owners) this.keyOwners.set(k.key, (owners = new Set()));
        owners.add(e.body.member);
      }
    }
  }

  /**
   * `touched` and every key that depends on them, directly or through others (not for
   * `admins`: everything depends on it). Followed to the end: a key replacement changes the old
   * node's register, which judges the certifications and lockouts that node recorded.
   */
  dependents(touched: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const todo: string[] = [];
    const add = (k: string) => {
      if (!out.has(k)) {
        out.add(k);
        todo.push(k);
      }
    };
    let resourcesDone = false;
    let certsDone = false;
    for (const k of touched) add(k);
    while (todo.length) {
      const k = todo.pop()!;
      for (const d of this.dependsOn.get(k) ?? []) add(d);
      // Each group is added once, however many resources or certifications were reached.
      if (!resourcesDone && k.startsWith('resource/')) {
        resourcesDone = true;
        for (const d of this.byResources) add(d);
      } else if (!certsDone && k.startsWith('cert/')) {
        certsDone = true;
        for (const d of this.byCerts) add(d);
      }
    }
    return out;
  }

  /** Members whose records list the public key `key`. */
  ownersOf(key: string): Iterable<string> {
    return this.keyOwners.get(key) ?? [];
  }
}
