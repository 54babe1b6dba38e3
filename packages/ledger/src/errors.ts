/** Ledger error codes and their meaning; messages add the specifics and the fix. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const LedgerError = defineErrors('LedgerError', {
  LEDGER_CORRUPT: 'the database file is damaged',
  LEDGER_NOT_FOUND: 'the ledger file does not exist',
  LEDGER_NOT_A_DATABASE: 'the file is not a Keymesh ledger database',
  LEDGER_WRONG_SITE: 'the database belongs to another site',
  LEDGER_TOO_NEW: 'the database was written by a newer Keymesh',
  LEDGER_CLOSED: 'the ledger is closed',
  LEDGER_READONLY: 'the ledger is open read-only',
  BAD_OPTION: 'an option passed to Ledger.open is not valid',
  SELF_FEED_BEHIND: "this node's own feed is further ahead elsewhere",
  SELF_FORK: "this node's own feed has forked",
  BAD_ENTRY: 'the entry to append is invalid',
  TOO_MANY_FEEDS: 'the ledger holds as many feeds as entry ids can tell apart',
  FILE_EXISTS: 'the file already exists',
  BAD_KEY_FILE: 'the key file cannot be used',
});
export type LedgerError = ErrorOf<typeof LedgerError>;

/** Why an incoming entry was refused (kept in the quarantine table with the reason). */
export const REJECT_REASONS = {
  BAD_JSON: 'not valid JSON',
  NOT_CANONICAL_BYTES: 'bytes are not the canonical encoding',
  TOO_LARGE: 'larger than an entry may be',
  SCHEMA: 'does not match the entry schema',
  NON_CANONICAL: 'content cannot be canonically encoded',
  WRONG_SITE: 'belongs to another site',
  BAD_SIGNATURE: 'signature does not verify',
  CHAIN_MISMATCH: "prev does not match the author's previous entry (a fork)",
  CLOCK_AHEAD: 'stamped too far in the future',
} as const;
export type RejectCode = keyof typeof REJECT_REASONS;

/** Why Ledger.submit refused an entry for relay: the checks of ingest, and the relay's own. */
export const SUBMIT_REFUSALS = {
  ...REJECT_REASONS,
  NO_AUTHORITY: 'its author holds no authority for it',
  FEED_FORKED: "its author's feed has forked",
  NOT_HEAD: "it does not extend the author's head held here",
} as const;
export type SubmitRefusalCode = keyof typeof SUBMIT_REFUSALS;
