// The help texts of `keymesh-ledger` and each of its commands (--help).
import type { Command } from './args.js';

const SITE = `  --site ID    the site id (64 hex: the hash of the site's genesis entry). Optional: the
               database records its site; if given, it must match (a check against the
               wrong file).`;
const JSON_FLAG = `  --json       print one JSON document instead of text (for scripts)`;
const HELP = `  -h, --help   show this help`;
const EXITS = `exit status: 0 ok, 1 problems found or the database could not be opened, 2 usage error
(unknown command or flag, missing argument, DB or FILE does not exist).`;

export const USAGE: Record<Command | 'main', string> = {
  main: `usage: keymesh-ledger <command> [options]

Operator and forensics tool for a Keymesh ledger database (one SQLite file per node).

commands:
  verify DB                 check every page of the file and every feed from scratch
                            (canonical bytes, hash links, signatures, site); list each
                            problem; exit 1 if any
  digest DB                 print the state digest (equal digests = replicas agree)
  heads DB                  print each feed's head: author and highest seq held
  export DB [--author KEY]  print every entry, one canonical JSON line each, in feed order
  import DB FILE.jsonl      ingest the lines of FILE, in any order; report what happened
  clear DB --peers|--pending [AUTHOR]|--quarantine
                            forget what this node may wrongly believe: peers' claims,
                            entries held for later, the quarantine

Every command takes --json (one JSON document on stdout) and --help.
Read commands never create a database: a DB path that does not exist is an error.

${EXITS}

example: keymesh-ledger export pi.db > feeds.jsonl && keymesh-ledger import copy.db feeds.jsonl`,

  verify: `usage: keymesh-ledger verify DB [--site ID] [--json]

Checks every page of the file (SQLite's quick_check, which an open no longer runs: an open
checks only what a crash can damage), then every stored entry of every feed from scratch:
canonical bytes, schema, the stored hash, hash links (prev), contiguous seqs, signatures,
site; and lists forks (two signed entries for one seq). Prints one line per problem: author,
seq and the reason (author "(file)" for damage to the file itself). Progress goes to stderr
on big databases.

${SITE}
${JSON_FLAG}
               {"ok", "entries", "feeds", "problems": [{"author", "seq", "reason"}]}
${HELP}

exit status: 0 no problems, 1 problems found (or the database could not be opened), 2 usage
error or DB does not exist.`,

  digest: `usage: keymesh-ledger digest DB [--site ID] [--json]

Prints the digest of the materialised policy state (hex). Two replicas holding the same
entries have the same digest, whatever order the entries arrived in.

${SITE}
${JSON_FLAG}
               {"digest", "site", "entries"}
${HELP}

${EXITS}`,

  heads: `usage: keymesh-ledger heads DB [--site ID] [--json]

Prints one line per feed: the author's public key and the highest seq held (the feed holds
seq 1..head, contiguous).

${SITE}
${JSON_FLAG}
               {"heads": {"<author>": seq, ...}}
${HELP}

${EXITS}`,

  export: `usage: keymesh-ledger export DB [--author KEY] [--json] > feed.jsonl

Prints every entry, one canonical JSON encoding per line (signature included), feed by feed
in seq order, then the fork proofs (the other signed entries found at a seq of a feed), so an
import trusts exactly what this ledger trusts. The output can be imported into any ledger of
the same site (keymesh-ledger import) or sent to a peer. Entries waiting for a predecessor and
quarantined entries are not exported.

  --author KEY only that author's feed (64 hex public key)
${SITE}
${JSON_FLAG}
               {"entries": [entry, ...], "count", "forkProofs"} (the entries as JSON
               objects; the last forkProofs of them are fork proofs)
${HELP}

${EXITS}`,

  import: `usage: keymesh-ledger import DB FILE.jsonl [--site ID] [--batch N] [--json]

Ingests FILE, one canonical entry per line, in whatever order the lines come (duplicates are
fine; blank lines are ignored). Every line's signature is checked; a line that is not an
entry, or whose bytes were changed, is rejected with its line number and the reason, and is
not stored. Entries whose predecessor is missing wait in the database until it arrives.
Prints accepted / duplicates / waiting / dropped / rejected (with reasons) and any fork found.
Waiting entries are held until their predecessor, or their key's authority, arrives; dropped
ones were not kept because what a node holds for later is bounded (import them again later).

The site: an existing database records its own. For a new (or empty) database, the site is
--site ID if given, otherwise the hash of the file's site.genesis line (the file must then
hold exactly one valid genesis; check the site id printed on stderr is your site's).
DB is created if it does not exist (FILE must exist).

  --site ID    the site id (64 hex: the hash of the site's genesis entry)
  --batch N    lines per transaction (default 5000); the file is read line by line
${JSON_FLAG}
               {"site", "lines", "accepted", "duplicates", "waiting", "dropped",
                "rejected": [{"line", "author", "seq", "code", "reason"}], "forks", "digest"}
${HELP}

exit status: 0 nothing rejected or dropped and no fork found, 1 some line rejected or dropped
or a fork found (or the database could not be opened), 2 usage error or FILE does not exist.`,

  clear: `usage: keymesh-ledger clear DB [--peers] [--pending [AUTHOR]] [--quarantine] [--site ID] [--json]

Clears what this node may wrongly believe; the signed feeds are never touched. Stop the node
first (the database must not be open elsewhere). Name at least one of:

  --peers         the heads peers claimed (unsigned: they only feed the sync-lag figure); the
                  next round of sync announces them again
  --pending [AUTHOR]
                  entries held for later (waiting for a predecessor, or for their key to be
                  given authority), all or only AUTHOR's (64 hex public key). Peers send them
                  again when they apply. A signed entry of this node's own key held here is
                  proof its feed is ahead elsewhere: clearing it does not make appending safe.
  --quarantine    the refused entries kept for examination
${SITE}
${JSON_FLAG}
               {"ok", "cleared": {"peers", "pending", "quarantine"}} (rows removed)
${HELP}

exit status: 0 cleared, 1 the database could not be opened or written, 2 usage error (no
flag given, DB does not exist).`,
};
