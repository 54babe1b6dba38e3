/**
 * Every error Keymesh raises has a stable code (for programs) and a message that names the
 * problem and the fix (for people). Codes are defined once, here; packages add their own
 * tables in the same shape.
 */
export const PROTOCOL_ERRORS = {
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
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

export class KeymeshError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: C, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'KeymeshError';
    this.code = code;
    this.details = details;
  }
}

export class ProtocolError extends KeymeshError<ProtocolErrorCode> {
  constructor(code: ProtocolErrorCode, detail: string, details?: Record<string, unknown>) {
    super(code, `${PROTOCOL_ERRORS[code]}: ${detail}`, details);
    this.name = 'ProtocolError';
  }
}
