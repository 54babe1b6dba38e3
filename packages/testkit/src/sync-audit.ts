/**
 * Audits who answered whom on a sync bus (DESIGN §7: only the addressee of a want answers it).
 * Fed every publish with its publisher's client id (a broker's tap), it counts batches, and those
 * that answer no want: a batch from X to Y counts only if Y published, itself, a want on
 * `sync/Y/want/X` naming X in its payload.
 */
import { Buffer } from 'node:buffer';
import { topics } from '@keymesh/protocol';

export interface SyncAudit {
  record(clientId: string, topic: string, payload: Uint8Array): void;
  readonly batches: number;
  readonly answeredByOthers: number;
}

export function syncAudit(site: string): SyncAudit {
  const root = topics(site).root;
  const asked = new Set<string>();
  let answeredByOthers = 0;
  let batches = 0;
  return {
    record(clientId, topic, payload) {
      if (!topic.startsWith(`${root}/`)) return;
      const parts = topic.slice(root.length + 1).split('/');
      if (parts[0] !== 'sync' || parts.length !== 4) return;
      const [, from, kind, to] = parts as [string, string, string, string];
      if (kind === 'want') {
        let msg: { to?: string; node?: string } = {};
        try {
          msg = JSON.parse(Buffer.from(payload).toString()) as typeof msg;
        } catch {
          return;
        }
        if (clientId === from && msg.node === from && msg.to === to) asked.add(`${from}>${to}`);
      } else if (kind === 'batch') {
        batches++;
        if (!asked.has(`${to}>${clientId}`) || from !== clientId) answeredByOthers++;
      }
    },
    get batches() {
      return batches;
    },
    get answeredByOthers() {
      return answeredByOthers;
    },
  };
}
