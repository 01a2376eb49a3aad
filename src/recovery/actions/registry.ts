// Every recovery action. Adding one is one file plus one line here; for one cause, actions are
// tried in this order.
import type { ActionDefinition } from './action.js';
import { failoverExternal } from './failover-external.js';
import { limitConcurrency } from './limit-concurrency.js';
import { quarantineInstance } from './quarantine-instance.js';
import { restartInstance } from './restart-instance.js';
import { revertConfig } from './revert-config.js';
import { scaleUp } from './scale-up.js';
import { shiftTraffic } from './shift-traffic.js';
import { timeoutRetry } from './timeout-retry.js';

export const ACTIONS: readonly ActionDefinition[] = [
  revertConfig,
  shiftTraffic,
  restartInstance,
  quarantineInstance,
  failoverExternal,
  limitConcurrency,
  scaleUp,
  timeoutRetry,
];
