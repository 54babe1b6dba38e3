/**
 * MQTT topic names (DESIGN §7). The site id is shortened to 16 hex characters in topics.
 *
 * A node publishes only under topics that name it first (`feed/<self>`, `head/<self>`,
 * `node/<self>/…`, `sync/<self>/…`), so a broker's ACL is one pattern per node. Wants and
 * batches name their addressee last: `sync/<from>/want/<to>`, and the addressee alone
 * subscribes to `sync/+/want/<self>`.
 */
export const TOPIC_ROOT = 'keymesh/v1';

export function siteTopicId(site: string): string {
  return site.slice(0, 16);
}

export function topics(site: string) {
  const root = `${TOPIC_ROOT}/${siteTopicId(site)}`;
  return {
    root,
    feed: (author: string) => `${root}/feed/${author}`,
    have: (node: string) => `${root}/sync/${node}/have`,
    want: (from: string, to: string) => `${root}/sync/${from}/want/${to}`,
    batch: (from: string, to: string) => `${root}/sync/${from}/batch/${to}`,
    head: (author: string) => `${root}/head/${author}`,
    /** Filters a replica subscribes to. */
    filters: {
      feeds: `${root}/feed/+`,
      heads: `${root}/head/+`,
      haves: `${root}/sync/+/have`,
      wantsTo: (self: string) => `${root}/sync/+/want/${self}`,
      batchesTo: (self: string) => `${root}/sync/+/batch/${self}`,
    },
    status: (node: string) => `${root}/node/${node}/status`,
    state: (node: string) => `${root}/node/${node}/state`,
    blob: (rest: string) => `${root}/blob/${rest}`,
    /** Blob transfer (blob-transfer.ts): a request for chunks, the parts that answer it, a node's held bundles. */
    blobGet: (from: string, to: string) => `${root}/blob/${from}/get/${to}`,
    blobPut: (from: string, to: string) => `${root}/blob/${from}/put/${to}`,
    blobHeld: (node: string) => `${root}/blob/${node}/held`,
    blobFilters: {
      getsTo: (self: string) => `${root}/blob/+/get/${self}`,
      putsTo: (self: string) => `${root}/blob/+/put/${self}`,
      held: `${root}/blob/+/held`,
    },
    /** Signed commands for one node (command.ts); QoS 1, never retained. */
    cmd: (node: string) => `${root}/cmd/${node}`,
  };
}
