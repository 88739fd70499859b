/**
 * Guard: an IPS/WAF in front of web servers. This file is the area's whole public surface.
 * Today: libinjection-compatible SQLi and XSS detection (`detectSqli`, `detectXss`).
 */

export {
  BlockAlerter,
  type BlockAlerterOptions,
  type BlockInfo,
  primaryRule,
} from './alerting.js';
export { type CheckReport, checkRules } from './check.js';
export type { FtwResult } from './core/ftw.js';
export { Html5State } from './core/html5.js';
export { toByteString } from './core/sqli.js';
export { detectSqli, fingerprint, isSqli } from './core/sqli-fold.js';
export { detectXss } from './core/xss.js';
export { type ProxyMatchLog, type ProxyOptions, type RunningProxy, startProxy } from './proxy.js';
export { type RegressionSummary, runRegression } from './regression.js';
export { runRegressionOverNetwork } from './regression-net.js';
export { loadRules } from './rules.js';
export type { GuardTables } from './schema.js';
export {
  listMatches,
  MATCHED_DATA_MAX,
  type MatchInput,
  type MatchQuery,
  MatchRecorder,
  type MatchSummary,
  matchDetail,
  matchSummary,
  type StoredMatch,
  safeText,
} from './store.js';
