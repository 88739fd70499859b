/**
 * The exposure area's public surface: scope, scanning, fingerprints, search, the credential
 * audit. The CLI, the web service and other areas import only this file.
 */

export {
  type AuditFinding,
  type AuditOptions,
  type AuditResult,
  auditCredentials,
} from './audit.js';
export {
  type Addr,
  type Cidr,
  formatAddr,
  formatCidr,
  parseAddr,
  parseCidr,
} from './core/cidr.js';
export { type Identity, identify } from './core/identify.js';
export { FACTORY_DEFAULTS } from './core/mamori-fingerprints.js';
export { parsePorts } from './core/ports.js';
export { formatQuery, parseQuery, type QueryNode } from './core/query.js';
export { RecogEngine } from './core/recog.js';
export { assertInScope, type ScopeEntry } from './core/scope.js';
export {
  type DiffResult,
  diffScans,
  type ExportRow,
  exportRows,
  formatExport,
  importResults,
  openCameras,
  parseMasscanJson,
  parseNmapXml,
} from './exchange.js';
export { loadEngine, loadRecogDir, mamoriDatabases } from './fingerprints.js';
export { type HostDetail, hostDetail } from './host.js';
export {
  DeadlineQueue,
  planShards,
  probe,
  runScan,
  SCAN_DEFAULTS,
  type ScanRequest,
  type ScanSummary,
} from './scan.js';
export { addScope, gateTargets, listScope, removeScope, type ScopeRow } from './scope-store.js';
export { type SearchMatch, type SearchOptions, type SearchResult, search } from './search.js';
export {
  createScan,
  type FindingRecord,
  getScan,
  listScans,
  recordFinding,
  recordService,
  type ScanRow,
  type ServiceRecord,
} from './store.js';
