// The access-decision body the ledger benchmarks append (shared by bench/suites/ledger.mjs and
// bench/lib/append-once.mjs; no imports, so append-once can time any checkout with it).
export const NOW = 1_700_000_000_000;
export const event = (i, member) => ({ resource: i % 7 ? 'door' : 'laser', credential: { kind: 'card', uid: `c${i % 5000}` }, allow: i % 3 !== 0, reason: 'ALLOWED', member, at: NOW + i * 1000 });
