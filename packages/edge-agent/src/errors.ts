/** The edge agent's error codes, defined once; messages add the specifics and the fix. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const EdgeError = defineErrors('EdgeError', {
  BAD_CONFIG: 'the configuration is not valid',
  BAD_PROVISIONING: 'the provisioning file cannot be used',
  NOT_ENROLLED: 'this data folder holds no enrolment',
  ALREADY_ENROLLED: 'this data folder is already enrolled',
  BAD_DATA_FILE: 'a file in the data folder is damaged',
  DRIVER_UNAVAILABLE: 'the driver cannot run on this machine',
  DEVICE_FAILED: 'a device did not answer',
  BAD_READ: 'a reader sent data that is not a card',
  AGENT_RUNNING: 'an agent is running on this data folder',
  AGENT_UNREACHABLE: 'the agent did not answer',
  NOT_SIM: 'the agent does not run sim hardware',
  BUNDLE_REFUSED: 'the bundle was refused',
  STOPPED: 'the agent was stopped while it started',
});
export type EdgeError = ErrorOf<typeof EdgeError>;
