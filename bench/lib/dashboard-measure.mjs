// The two dashboard figures, timed on the one clock every process on this machine shares
// (Date.now(): the page, the bench and the edge agents run on one host, so their wall clocks
// are the same clock):
// - a tap → its row in the live log: the bench notes Date.now() as it sends the sim tap to an
//   edge's panel (the page cannot send it itself: the panel refuses a POST from another origin);
//   a MutationObserver in the page notes Date.now() when the row (keyed by its entry hash) is
//   inserted into the log's table.
// - a suspension → every online node denies: a capture-phase click listener in the page notes
//   Date.now() as "Suspend" is clicked; the bench then taps each edge in a loop with Ada's extra
//   cards (round-robin, so no read falls in the tap filter's repeat window) and takes the edge's
//   own timestamp of its first MEMBER_SUSPENDED decision; the figure is the later of the edges.
import { ADA_POLL_UIDS, CARDS, view } from './dashboard-site.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Installs the row recorder: window.__kmRows gets { hash, t, member, where } per new log row. */
export async function recordRows(page) {
  await page.evaluate(() => {
    const rows = (window.__kmRows = []);
    const seen = new Set();
    const take = (tr, t) => {
      const hash = tr.getAttribute('data-row');
      if (!hash || seen.has(hash)) return;
      seen.add(hash);
      rows.push({ hash, t, member: tr.querySelector('[data-field="member"]')?.textContent ?? '', where: tr.children[2]?.textContent ?? '' });
    };
    document.querySelectorAll('tr[data-row]').forEach((tr) => take(tr, Date.now()));
    new MutationObserver((muts) => {
      const t = Date.now();
      for (const m of muts) for (const n of m.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches('tr[data-row]')) take(n, t);
        n.querySelectorAll('tr[data-row]').forEach((tr) => take(tr, t));
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
}

/**
 * `n` sim taps spread over the edges (Ada and Bob in turn; a pause of 150–400 ms between taps,
 * so neither the tap filter nor a sync batch lines them up); each waits for its row. At the
 * laser Bob is refused (not certified): a refusal's row is timed as an unlock's is.
 */
export async function tapsToRows(page, edges, n, log) {
  await view(page, 'log');
  await recordRows(page);
  const ms = [];
  for (let i = 0; i < n; i++) {
    const edge = edges[i % edges.length];
    const card = CARDS[Math.floor(i / edges.length) % CARDS.length];
    const where = edge.node.resource === 'front-door' ? 'Front door' : 'Laser cutter';
    await sleep(150 + Math.random() * 250);
    // At the laser Ada's allowed tap starts a session, and her next one would end it (a
    // tap-out: a session record, no decision, no row): that one is sent first, unmeasured.
    if (edge.node.kind === 'machine' && card.member === 'ada' && (await edge.panel.status()).state === 'in_use') {
      await edge.panel.tap({ card: card.name });
      await sleep(150);
    }
    const n0 = await page.evaluate(() => window.__kmRows.length);
    const sent = Date.now();
    await edge.panel.tap({ card: card.name });
    const row = await (await page.waitForFunction(([n0, member, where]) => window.__kmRows.slice(n0).find((r) => r.member === member && r.where === where) ?? null, [n0, card.name, where], { timeout: 15_000 })).jsonValue();
    ms.push(row.t - sent);
    if ((i + 1) % 25 === 0) log(`  ${i + 1} taps`);
  }
  return ms;
}

/** Taps `edge` with Ada's poll cards until its decision has `reason`; returns the edge's timestamp of that decision and of the previous one. */
async function pollUntil(edge, reason, lastUse, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  let k = 0;
  let before = null;
  for (;;) {
    // At the laser an allowed poll starts Ada's session and the next ends it (a tap-out, no
    // decision: skipped by the `at` check), so there the polls decide every other time.
    // Each card at most every 110 ms (the edges' tapRepeatMs is 100); about one tap per 20 ms.
    const uid = ADA_POLL_UIDS[k++ % ADA_POLL_UIDS.length];
    const wait = (lastUse.get(edge.node.name + uid) ?? 0) + 110 - Date.now();
    if (wait > 0) await sleep(wait);
    const sent = Date.now();
    lastUse.set(edge.node.name + uid, sent);
    await edge.panel.tap({ uid });
    const d = (await edge.panel.status()).lastDecision;
    if (d && d.at >= sent) {
      if (d.reason === reason) return { at: d.at, before };
      before = d.at;
    }
    if (Date.now() > end) throw new Error(`${edge.node.name} did not decide ${reason} for Ada within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

async function clickAndPoll(page, edges, label, reason, status, lastUse) {
  await page.click(`[data-member="ada"] button:text-is("${label}")`);
  const clickAt = await page.evaluate(() => window.__kmClickAt);
  const per = await Promise.all(edges.map((e) => pollUntil(e, reason, lastUse)));
  await page.waitForSelector(`[data-member="ada"] [data-field="status"]:text-matches("^${status}")`, { timeout: 10_000 });
  // Upper bound: the first decision with the new rule; the previous decision (old rule) bounds it from below.
  return { ms: Math.max(...per.map((p) => p.at - clickAt)), gapMs: Math.max(...per.map((p) => (p.before === null ? 0 : p.at - p.before))) };
}

/** `rounds` of Suspend → every edge denies MEMBER_SUSPENDED → Reinstate → every edge allows again, clicked in the page. */
export async function suspendRounds(page, edges, rounds, log) {
  await view(page, 'members');
  await page.evaluate(() => document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('button')) window.__kmClickAt = Date.now();
  }, true));
  const lastUse = new Map();
  const suspend = [];
  const reinstate = [];
  const gaps = [];
  for (let i = 0; i < rounds; i++) {
    const s = await clickAndPoll(page, edges, 'Suspend', 'MEMBER_SUSPENDED', 'suspended', lastUse);
    suspend.push(s.ms);
    gaps.push(s.gapMs);
    await sleep(200 + Math.random() * 300);
    const r = await clickAndPoll(page, edges, 'Reinstate', 'ALLOWED', 'active', lastUse);
    reinstate.push(r.ms);
    await sleep(200 + Math.random() * 300);
    if ((i + 1) % 5 === 0) log(`  ${i + 1} rounds`);
  }
  return { suspend, reinstate, gaps };
}
