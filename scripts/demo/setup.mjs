// Sets up the demo site in the demo folder with the same commands an operator types
// (`keymesh init`, `resource add`, `member add`, `card bind`, `cert grant`, `trainer add`,
// `node enrol`, then `keymesh-edge enrol` per node). They run in this process (the coordinator's
// `runCaptured`, the edge's `enrol`), not as 25 child processes: each `node` start costs a
// second or two on a small machine, and the demo should be up in seconds.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MEMBERS, NODES, SITE_NAME } from './cast.mjs';

/** Where everything lives inside the demo folder. */
export function demoPaths(dir) {
  return {
    dir,
    marker: join(dir, 'demo.json'),
    site: join(dir, 'site'),
    keys: join(dir, 'keys'),
    logs: join(dir, 'logs'),
    provisioning: join(dir, 'provisioning'),
    edge: (id) => join(dir, 'edges', id),
    edgeConfig: (id) => join(dir, 'edges', `${id}.yaml`),
    log: (name) => join(dir, 'logs', `${name}.log`),
  };
}

/** The finished setup of an earlier run, or null (none, or one that stopped half way). */
export function readMarker(paths) {
  if (!existsSync(paths.marker)) return null;
  try {
    const m = JSON.parse(readFileSync(paths.marker, 'utf8'));
    if (m && m.v === 1 && typeof m.site === 'string' && typeof m.adminKey === 'string' && existsSync(m.adminKey) && NODES.every((n) => existsSync(join(paths.edge(n.id), 'enrolment.json')))) return m;
  } catch {
    // An unreadable marker is a setup to redo, not a crash.
  }
  return null;
}

async function load(root) {
  const coord = await import(pathToFileURL(join(root, 'packages/coordinator/dist/admin/run-captured.js')).href);
  const edge = await import(pathToFileURL(join(root, 'packages/edge-agent/dist/enrol.js')).href);
  return { runCaptured: coord.runCaptured, enrol: edge.enrol };
}

/** What the demo itself puts in its folder: nothing else is ever deleted by --reset. */
const OURS = new Set(['demo.json', 'site', 'keys', 'logs', 'provisioning', 'edges']);

/** Empties the demo folder, refusing one that holds anything the demo did not make (--data ~ must not wipe a home). */
function clearFolder(dir) {
  if (!existsSync(dir)) return;
  const foreign = readdirSync(dir).filter((f) => !OURS.has(f));
  if (foreign.length) {
    throw new Error(`${dir} holds files the demo did not make (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), so it is not deleted; give --data an empty or new folder.`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Makes the demo site from nothing; `say` prints progress. Returns the marker. */
export async function setUpSite(root, paths, say) {
  clearFolder(paths.dir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  for (const d of [paths.logs, paths.provisioning, join(paths.dir, 'edges')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const { runCaptured, enrol } = await load(root);

  const km = async (...argv) => {
    const r = await runCaptured([...argv, '--json']);
    if (r.code !== 0) {
      // The words are the demo's own (no real card numbers): safe to show.
      throw new Error(`\`keymesh ${argv.join(' ')}\` failed (exit ${r.code}): ${r.err.trim() || r.out.trim()}`);
    }
    return JSON.parse(r.out.trim().split('\n').pop());
  };

  say(`keymesh init --site "${SITE_NAME}" (coordinator key, genesis, admin keys, site card key)`);
  const init = await km('init', '--site', SITE_NAME, '--data', paths.site, '--keys', paths.keys);
  const admin = ['--data', paths.site, '--key', init.dailyAdminKey];

  say('resources: front door, laser cutter (needs cert "laser"), CNC router (needs cert "cnc")');
  for (const n of NODES) {
    const extra = n.kind === 'machine'
      ? ['--requires', n.requires, '--idle-timeout', '900', '--risk', 'high', '--max-stale-hours', '72', '--unlock-seconds', '10']
      : ['--unlock-seconds', '5'];
    await km('resource', 'add', n.resource, '--name', n.name, '--kind', n.kind, ...extra, ...admin);
  }

  say(`members and cards: ${MEMBERS.map((m) => m.id).join(', ')}`);
  for (const m of MEMBERS) {
    await km('member', 'add', m.id, '--name', m.name, ...(m.expires ? ['--expires', m.expires] : []), ...admin);
    await km('card', 'bind', m.uid, '--form', 'hex', '--member', m.id, ...admin);
  }

  say('certifications, the trainer (grace, for the laser), the admin member (sam), a suspension (alan)');
  for (const m of MEMBERS) for (const c of m.certs) await km('cert', 'grant', m.id, c, '--note', 'demo induction', ...admin);
  for (const m of MEMBERS) if (m.trainerFor) await km('trainer', 'add', m.id, ...m.trainerFor.flatMap((c) => ['--cert', c]), ...admin);
  for (const m of MEMBERS) if (m.admin) await km('member', 'update', m.id, '--add-key', init.dailyAdmin, ...admin);
  for (const m of MEMBERS) if (m.suspended) await km('member', 'suspend', m.id, ...admin);

  say('nodes: keymesh node enrol, then keymesh-edge enrol for each');
  for (const n of NODES) {
    const file = join(paths.provisioning, `${n.node}.json`);
    // The broker address in the file is a placeholder: each run's edge config names the port of that run.
    await km('node', 'enrol', n.node, '--kind', n.kind, '--resource', n.resource, '--broker', 'mqtt://127.0.0.1:1883', '--out', file, ...admin);
    enrol(file, paths.edge(n.id));
    rmSync(file); // it holds the site card key and the node's key seed: gone once enrolled
  }

  const marker = { v: 1, site: init.site, siteName: SITE_NAME, adminKey: init.dailyAdminKey, adminPublicKey: init.dailyAdmin, created: new Date().toISOString() };
  writeFileSync(paths.marker, JSON.stringify(marker, null, 2) + '\n', { mode: 0o600 });
  return marker;
}
