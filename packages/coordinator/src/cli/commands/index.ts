/** Every `keymesh` command, in the order --help lists them. */
import type { Command } from '../command.js';
import { init } from './init.js';
import { serve } from './serve.js';
import { nodeEnrol } from './node-enrol.js';
import { memberAdd, memberUpdate, memberSuspend, memberReinstate } from './member.js';
import { cardBind, cardUnbind } from './card.js';
import { certGrant, certRevoke } from './cert.js';
import { trainerAdd, trainerRemove } from './trainer.js';
import { resourceAdd, resourceUpdate } from './resource.js';
import { lockoutSet, lockoutLift } from './lockout.js';
import { unlock } from './unlock.js';
import { adminAdd, adminRemove, adminApprove, adminList } from './admin.js';
import { log } from './log.js';
import { status } from './status.js';
import { brokerMosquittoConf } from './broker-mosquitto-conf.js';
import { bundlePublish } from './bundle-publish.js';
import { bundleStatusCommand } from './bundle-status.js';

export const COMMANDS: readonly Command[] = [
  init,
  serve,
  nodeEnrol,
  memberAdd, memberUpdate, memberSuspend, memberReinstate,
  cardBind, cardUnbind,
  certGrant, certRevoke,
  trainerAdd, trainerRemove,
  resourceAdd, resourceUpdate,
  lockoutSet, lockoutLift,
  unlock,
  adminAdd, adminRemove, adminApprove, adminList,
  log,
  status,
  brokerMosquittoConf,
  bundlePublish, bundleStatusCommand,
];
