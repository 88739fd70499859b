/**
 * The exposure area's public surface: scope, scanning, fingerprints, search, the credential
 * audit. The CLI, the web service and other areas import only this file.
 */
export {
  type Addr,
  type Cidr,
  formatAddr,
  formatCidr,
  parseAddr,
  parseCidr,
} from './core/cidr.js';
export { parsePorts } from './core/ports.js';
export { assertInScope, type ScopeEntry } from './core/scope.js';
export { addScope, gateTargets, listScope, removeScope, type ScopeRow } from './scope-store.js';
