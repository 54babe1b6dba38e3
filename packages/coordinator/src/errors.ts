/** The coordinator's error codes, defined once; messages add the specifics and the fix. HTTP statuses: http/errors.ts. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const CoordinatorError = defineErrors('CoordinatorError', {
  ALREADY_INITIALISED: 'this data folder already holds a site',
  NOT_INITIALISED: 'this data folder holds no site',
  BAD_DATA_FILE: 'a file in the data folder is damaged',
  BAD_CONFIG: 'an option is not valid',
  BAD_KEY_FILE: 'the key file cannot be used',
  FILE_EXISTS: 'the file already exists',
  NOT_ADMIN: 'the key is not a current admin of this site',
  NOT_FOUND: 'no such thing',
  BAD_REQUEST: 'the request is not valid',
  STALE_HEAD: "the entry does not extend its author's head",
  REFUSED: 'the entry was refused',
  TOO_LARGE: 'the request is larger than allowed',
  SERVER_UNREACHABLE: 'the coordinator did not answer',
  SERVER_RUNNING: 'a coordinator is serving this data folder',
  API_ERROR: 'the coordinator refused the request',
  PORT_IN_USE: 'the port is in use',
  BROKER_UNREACHABLE: 'the MQTT broker did not accept the connection',
  BUNDLE_UNKNOWN: 'no such bundle',
  OWN_HEAD_UNKNOWN: "this coordinator has not yet learned its own feed's head",
});
export type CoordinatorError = ErrorOf<typeof CoordinatorError>;
