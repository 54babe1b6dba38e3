/** MQTT topic names (DESIGN §7). The site id is shortened to 16 hex characters in topics. */
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
    want: (node: string) => `${root}/sync/${node}/want`,
    head: (author: string) => `${root}/head/${author}`,
    status: (node: string) => `${root}/node/${node}/status`,
    state: (node: string) => `${root}/node/${node}/state`,
    blob: (rest: string) => `${root}/blob/${rest}`,
  };
}
