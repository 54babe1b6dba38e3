/**
 * Every error Keymesh raises has a stable code (for programs) and a message that names the
 * problem and the fix (for people). Each package defines its codes once, in one table, and
 * makes its error class from it with defineErrors.
 */

export class KeymeshError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: C, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeymeshError';
    this.code = code;
    this.details = details;
  }
}

/** A package's error class, made by defineErrors: `new E(code, detail, details?)`. */
export interface KeymeshErrorClass<C extends string> {
  new (code: C, detail: string, details?: Record<string, unknown>, options?: { cause?: unknown }): KeymeshError<C>;
  /** The package's table: code → what went wrong; a message is that, then the detail. */
  readonly codes: Readonly<Record<C, string>>;
}

/**
 * Makes a package's error class from its one table of codes (code → what went wrong). The
 * message is the table's text followed by `detail`, which names the specifics and the fix.
 * Every class it makes is a KeymeshError, so a caller can tell them by `code` alone.
 */
export function defineErrors<const T extends Record<string, string>>(name: string, table: T): KeymeshErrorClass<keyof T & string> {
  type C = keyof T & string;
  const cls = class extends KeymeshError<C> {
    static readonly codes = table;
    constructor(code: C, detail: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
      super(code, `${table[code]}: ${detail}`, details, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** The error type of a class made by defineErrors: `type E = ErrorOf<typeof E>`. */
export type ErrorOf<E> = E extends KeymeshErrorClass<infer C> ? KeymeshError<C> : never;

export const ProtocolError = defineErrors('ProtocolError', {
  NON_CANONICAL: 'value cannot be canonically encoded',
  NOT_CANONICAL_BYTES: 'entry bytes are not in canonical form',
  BAD_JSON: 'input is not valid JSON',
  SCHEMA: 'input does not match the schema',
  BAD_HASH: 'entry hash does not match its content',
  BAD_SIGNATURE: 'signature does not verify',
  BAD_KEY: 'key is malformed',
  BAD_KEY_FILE: 'key file is malformed',
  HLC_DRIFT: 'clock value is too far in the future',
  TOO_LARGE: 'message is larger than allowed',
  BAD_CRYPTO_CHOICE: 'the crypto implementation asked for cannot be used',
  EVENTS_KEPT_BY_STORE: "this policy state's store keeps access events itself",
  BAD_CARD_UID: 'card uid is malformed',
  BAD_MANIFEST: 'blob manifest is invalid',
  NOT_NEXT_ENTRY: 'entry cannot follow the head it was given',
});
export type ProtocolError = ErrorOf<typeof ProtocolError>;
