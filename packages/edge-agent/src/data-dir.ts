/**
 * The edge's data folder (made by `keymesh-edge enrol`, mode 0700):
 *
 *   enrolment.json  the provisioning file as enrolled, without the key seed: site, genesis,
 *                   broker, coordinators, the site card key (0600: DESIGN §3, never published)
 *   node.key        this node's own key (0600; never in a backup: DESIGN §4)
 *   ledger.db       the replica (SQLite, WAL); its own feed is the outbox (DESIGN §7)
 *   blobs.db        bundles' chunks
 *   bundles/        verified bundles, one folder per version
 *   agent.json      written by `keymesh-edge run` while it runs: pid and panel address
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { readKeyFile, writeFileAtomic } from '@keymesh/ledger';
import { Millis, ProvisioningFile, describeZodError, type KeyPair } from '@keymesh/protocol';
import { EdgeError } from './errors.js';

export const DEFAULT_EDGE_DATA_DIR = 'keymesh-edge-data';

export interface EdgePaths {
  dir: string;
  enrolment: string;
  nodeKey: string;
  ledger: string;
  blobs: string;
  bundles: string;
  agent: string;
}

export function edgePaths(dir: string): EdgePaths {
  const d = resolve(dir);
  return {
    dir: d,
    enrolment: join(d, 'enrolment.json'),
    nodeKey: join(d, 'node.key'),
    ledger: join(d, 'ledger.db'),
    blobs: join(d, 'blobs.db'),
    bundles: join(d, 'bundles'),
    agent: join(d, 'agent.json'),
  };
}

/** What the node keeps of its provisioning file: everything but the key seed (that is node.key). */
export const Enrolment = z.strictObject({
  keymesh: z.literal('edge-enrolment'),
  v: z.literal(1),
  site: ProvisioningFile.shape.site,
  siteName: ProvisioningFile.shape.siteName,
  genesis: ProvisioningFile.shape.genesis,
  broker: ProvisioningFile.shape.broker,
  coordinators: ProvisioningFile.shape.coordinators,
  cardKey: ProvisioningFile.shape.cardKey,
  node: z.strictObject({ name: z.string().min(1).max(100), kind: z.enum(['door', 'machine']), resource: z.string().min(1).max(64) }),
  enrolled: Millis,
});
export type Enrolment = z.infer<typeof Enrolment>;

export function readJsonFile<T>(path: string, schema: z.ZodType<T>, what: string, fix: string): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EdgeError(code === 'ENOENT' ? 'NOT_ENROLLED' : 'BAD_DATA_FILE', code === 'ENOENT' ? `${path} (${what}) does not exist: ${fix}` : `${path} (${what}) cannot be read as JSON: ${(err as Error).message}. ${fix}`, { path });
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new EdgeError('BAD_DATA_FILE', `${path} (${what}): ${describeZodError(r.error)}. ${fix}`, { path });
  return r.data;
}

/** A secret file another user could read or change is refused: its key could be copied or swapped. */
export function checkPrivate(path: string, what: string): void {
  const st = statSync(path);
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid() || st.uid === 0;
  if (st.mode & 0o077 || !mine) {
    throw new EdgeError('BAD_DATA_FILE', `${path} (${what}) is readable or writable by other users (mode ${(st.mode & 0o777).toString(8)}): \`chmod 600 ${path}\`, and if others may have read it, enrol the node again with a new key.`, { path });
  }
}

/** A folder others may write to lets them swap ledger.db (the rules, which the node trusts from its own file) or agent.json. */
function checkPrivateDir(dir: string): void {
  const st = statSync(dir);
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid() || st.uid === 0;
  if (st.mode & 0o022 || !mine) {
    throw new EdgeError('BAD_DATA_FILE', `${dir} (the data folder) can be written by other users (mode ${(st.mode & 0o777).toString(8)}): \`chmod 700 ${dir}\`; if others may have changed its files, enrol the node again into a new folder.`, { path: dir });
  }
}

const REENROL = 'enrol this node with `keymesh-edge enrol PROVISIONING_FILE`.';

export function readEnrolment(p: EdgePaths): Enrolment {
  if (!existsSync(p.enrolment)) throw new EdgeError('NOT_ENROLLED', `${p.dir} holds no enrolment: ${REENROL}`, { path: p.dir });
  checkPrivateDir(p.dir);
  checkPrivate(p.enrolment, 'the enrolment');
  return readJsonFile(p.enrolment, Enrolment, 'the enrolment', `Restore it from a backup or ${REENROL}`);
}

export function readEdgeKey(p: EdgePaths): KeyPair {
  checkPrivate(p.nodeKey, "the node's key");
  return readKeyFile(p.nodeKey);
}

export function writeEnrolment(p: EdgePaths, e: Enrolment): void {
  writeFileAtomic(p.enrolment, `${JSON.stringify(e, null, 2)}\n`, { mode: 0o600 });
}

export const AgentRecord = z.strictObject({
  pid: z.number().int().positive(),
  panel: z.string().max(200).nullable(),
  started: Millis,
  /** Which process, beyond its pid (Linux: boot id and start tick): a record a power cut left must not match the pid's next owner. */
  proc: z.string().max(100).optional(),
});
export type AgentRecord = z.infer<typeof AgentRecord>;

/** `<boot id>:<start tick>` of a live process on Linux, else null (then the pid alone is the test). */
export function processIdentity(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2, in parentheses) may hold spaces.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start ? `${boot}:${start}` : null;
  } catch {
    return null;
  }
}

export function writeAgentRecord(p: EdgePaths, r: AgentRecord): void {
  const proc = r.proc ?? (r.pid === process.pid ? processIdentity(r.pid) ?? undefined : undefined);
  writeFileAtomic(p.agent, `${JSON.stringify({ ...r, ...(proc ? { proc } : {}) })}\n`, { mode: 0o600, overwrite: true });
}

/** The agent running on this folder, if its record names a live process. */
export function runningAgent(p: EdgePaths): AgentRecord | null {
  if (!existsSync(p.agent)) return null;
  let r: AgentRecord;
  try {
    r = AgentRecord.parse(JSON.parse(readFileSync(p.agent, 'utf8')));
  } catch {
    return null;
  }
  try {
    process.kill(r.pid, 0);
    // After a reboot (or a kill -9 and a while) the pid may belong to another process now.
    const now = r.proc === undefined ? null : processIdentity(r.pid);
    if (now !== null && now !== r.proc) return null;
    return r;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? r : null;
  }
}

export function removeAgentRecord(p: EdgePaths): void {
  rmSync(p.agent, { force: true });
}
