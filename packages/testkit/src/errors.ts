/** Testkit error codes and their meaning; messages add the specifics and the fix. */
import { KeymeshError } from '@keymesh/protocol';

export const TESTKIT_ERRORS = {
  BUS_NOT_CONNECTED: 'the client is not connected to the broker',
  BUS_MESSAGE_TOO_LARGE: 'the message is larger than the broker accepts',
  BUS_BAD_TOPIC: 'the topic is not a valid MQTT topic name',
  BUS_BAD_FILTER: 'the filter is not a valid MQTT topic filter',
  BUS_DUPLICATE_CLIENT: 'a client with this id is already connected to the broker',
  BUS_RUNAWAY: 'the broker kept delivering without settling',
  BAD_OPTION: 'an option passed to the test kit is not valid',
} as const;

export type TestkitErrorCode = keyof typeof TESTKIT_ERRORS;

export class TestkitError extends KeymeshError<TestkitErrorCode> {
  constructor(code: TestkitErrorCode, detail: string, details?: Record<string, unknown>) {
    super(code, `${TESTKIT_ERRORS[code]}: ${detail}`, details);
    this.name = 'TestkitError';
  }
}
