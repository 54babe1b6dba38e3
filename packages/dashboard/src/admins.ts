/**
 * This browser's key in the admin set (DESIGN §3: one key per signing device). The operator's
 * imported key signs, once, the `admins.change` that adds the page's own key (the whole new
 * set, `deps` = the admin register's heads); from then on the page signs with its own key and
 * the key file is dropped. Adding an admin needs the set's quorum of signatures: with a quorum
 * above 1 the page says so and signs nothing (`keymesh admin add` collects approvals).
 */
import type { AdminsValue, KeyPair } from '@keymesh/protocol';
import { api } from './api.js';
import { signAndSubmit, type SignResult } from './sign.js';

export async function isCurrentAdmin(key: string): Promise<boolean> {
  const reg = await api.policy<AdminsValue>('admins');
  return !!reg && Object.hasOwn(reg.value.admins, key) && reg.value.admins[key] === null;
}

export async function addPageKey(operator: KeyPair, page: KeyPair, site: string): Promise<SignResult> {
  const reg = await api.policy<AdminsValue>('admins');
  if (!reg) return { ok: false, code: 'NO_ADMIN_SET', message: 'the coordinator holds no admin set; is this the right site?' };
  const { admins, quorum } = reg.value;
  if (Object.hasOwn(admins, page.publicKey) && admins[page.publicKey] === null) return { ok: false, code: 'ALREADY_ADMIN', message: "this browser's key is already an admin" };
  if (quorum > 1) {
    return { ok: false, code: 'QUORUM', message: `adding an admin needs ${quorum} admins' signatures; run \`keymesh admin add ${page.publicKey}\` and have the others approve it` };
  }
  const next = { ...admins, [page.publicKey]: null };
  const grants = Object.entries(next).map(([key, until]) => ({ key, until })).sort((a, b) => (a.key < b.key ? -1 : 1));
  return signAndSubmit(operator, site, 'admins.change', { admins: grants, quorum, approvals: [] }, ['admins']);
}
