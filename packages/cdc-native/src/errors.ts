/** Why a chunker call failed; `code` is stable, `message` names the problem and the fix. */
export type CdcErrorCode =
  | 'CDC_BAD_PARAMS' // min/avg/max/level/seed out of range
  | 'CDC_BAD_INPUT' // data is not a Uint8Array, or the stream was used after finish()
  | 'CDC_BAD_IMPL' // KEYMESH_CDC_IMPL or the `impl` option holds an unknown value
  | 'CDC_NATIVE_UNAVAILABLE'; // the native addon was asked for but could not be loaded

export class CdcError extends Error {
  readonly code: CdcErrorCode;

  constructor(code: CdcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CdcError';
    this.code = code;
  }
}
