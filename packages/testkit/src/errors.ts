/** Testkit error codes and their meaning; messages add the specifics and the fix. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const TestkitError = defineErrors('TestkitError', {
  BUS_NOT_CONNECTED: 'the client is not connected to the broker',
  BUS_MESSAGE_TOO_LARGE: 'the message is larger than the broker accepts',
  BUS_BAD_TOPIC: 'the topic is not a valid MQTT topic name',
  BUS_BAD_FILTER: 'the filter is not a valid MQTT topic filter',
  BUS_DUPLICATE_CLIENT: 'a client with this id is already connected to the broker',
  BUS_RUNAWAY: 'the broker kept delivering without settling',
  BAD_OPTION: 'an option passed to the test kit is not valid',
});
export type TestkitError = ErrorOf<typeof TestkitError>;
