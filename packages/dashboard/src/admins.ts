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
  const r = await addAdmin(operator, page.publicKey, site);
  return !r.ok && r.code === 'ALREADY_ADMIN' ? { ...r, message: "this browser's key is already an admin" } : r;
}

/**
 * Adds `newKey` (another browser's own key, pasted by an admin: the new page shows it) to the
 * admin set, signed by `signer`, an admin already.
 */
export async function addAdmin(signer: KeyPair, newKey: string, site: string): Promise<SignResult> {
  const key = newKey.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(key)) return { ok: false, code: 'BAD_KEY', message: 'a browser\'s key is 64 hex digits, as its sign-in page shows it ("This browser\'s own key"); nothing was signed' };
  const reg = await api.policy<AdminsValue>('admins');
  if (!reg) return { ok: false, code: 'NO_ADMIN_SET', message: 'the coordinator holds no admin set; is this the right site?' };
  const { admins, quorum } = reg.value;
  if (Object.hasOwn(admins, key) && admins[key] === null) return { ok: false, code: 'ALREADY_ADMIN', message: 'that key is already an admin; nothing was signed' };
  if (Object.hasOwn(admins, key)) return { ok: false, code: 'REMOVED_ADMIN', message: 'that key was an admin and was removed: a removed key is not trusted again; the browser must make a new key (clear its site data)' };
  if (quorum > 1) {
    return { ok: false, code: 'QUORUM', message: `adding an admin needs ${quorum} admins' signatures; run \`keymesh admin add ${key}\` and have the others approve it` };
  }
  const next = { ...admins, [key]: null };
  const grants = Object.entries(next).map(([k, until]) => ({ key: k, until })).sort((a, b) => (a.key < b.key ? -1 : 1));
  return signAndSubmit(signer, site, 'admins.change', { admins: grants, quorum, approvals: [] }, ['admins']);
}
