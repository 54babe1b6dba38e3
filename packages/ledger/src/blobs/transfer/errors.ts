/** Blob transfer error codes and their meaning; messages add the specifics and the fix. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const TransferError = defineErrors('TransferError', {
  TRANSFER_TIMEOUT: 'the source stopped answering',
  TRANSFER_CORRUPT: 'the source kept sending bytes that do not hash to what was asked',
  TRANSFER_BAD_MANIFEST: 'the manifest received is not a valid manifest of that id',
  TRANSFER_BAD_INPUT: 'a fetch was asked with unusable arguments',
  TRANSFER_CLOSED: 'the fetcher was closed',
  TRANSFER_BUSY: 'a fetch of that blob from that source is already running',
});
export type TransferError = ErrorOf<typeof TransferError>;
