/**
 * The custody area's public surface: multisig wallets in hot/warm/cold tiers, BIP380
 * descriptors, BIP174 PSBTs, the withdrawal policy engine, the watcher and the audit chain,
 * plus chain adapters (Bitcoin Core JSON-RPC, Esplora) and a bcoin regtest node for tests.
 * Other areas, the CLI and the web service import only this file.
 */

export {
  approvalChallenge,
  approvalQueue,
  type FreezeVotes,
  freezeVotes,
  type QueuedWithdrawal,
  unfreezeChallenge,
} from './approvals.js';
export { BURN_ADDRESS, type RegtestNode, startRegtestNode } from './chain/bcoin-node.js';
export { esplora } from './chain/esplora.js';
export { coreRpc } from './chain/rpc.js';
export { formatBtc, parseBtc, parsePayees } from './core/amount.js';
export type { ChainAdapter, ChainTx } from './core/chain.js';
export { descriptorChecksum } from './core/checksum.js';
export {
  APPROVE_DOMAIN,
  type CosignApproval,
  checkSignedWithdrawal,
  cosignCheck,
  EVIDENCE_FORMAT,
  type Evidence,
  type LedgerEntry,
  parseEvidence,
  REQUEST_DOMAIN,
  type SignedWithdrawal,
  type SweepClaim,
  type WithdrawalStatement,
} from './core/cosign.js';
export {
  formatDescriptor,
  makeDeriver,
  parseMultisigDescriptor,
} from './core/descriptor.js';
export { EVIDENCE_KEY, embeddedEvidence, embedEvidence } from './core/evidence-field.js';
export { type NetworkName, network } from './core/network.js';
export { compilePolicy, type Decision, evaluate, type Policy } from './core/policy.js';
export {
  buildWithdrawal as buildPsbt,
  coinTypeOf,
  combinePsbts,
  decodePsbt,
  encodePsbt,
  finalizePsbt,
  inspectPsbt,
  type PsbtView,
  signPsbt,
} from './core/psbt.js';
export {
  canonicalStatement,
  checkGenesis,
  checkIdentityDoc,
  type Genesis,
  genesisHash as checkGenesisHash,
  type IdentityDoc,
  identityId,
  makeGenesis,
  memoSchnorrVerify,
  nobleSchnorrVerify,
  type PolicyVersion,
  parseDocument,
  policyHash,
  type SchnorrVerify,
  type Signature,
  statementDigest,
  type TrustRoot,
  verifyPolicyChain,
  verifySignature,
  verifyWebAuthn,
  type WebAuthnAssertion,
  webauthnChallenge,
} from './core/trust.js';
export {
  appendLedger,
  type CosignerTls,
  cosign,
  readCosignerTls,
  readGenesisFile,
  readLedger,
  serveCosigner,
} from './cosigner.js';
export {
  type CosignerClientTls,
  type CosignResult,
  readCosignerClientTls,
  requestCosign,
} from './cosigner-client.js';
export {
  type BalanceHistory,
  balanceHistory,
  type PipelineRow,
  withdrawalPipeline,
} from './history.js';
export {
  type IdentityFile,
  newIdentity,
  parseIdentityFile,
  readIdentityFile,
  type Signer,
  unlockIdentity,
} from './identity.js';
export { type KeyFile, newKey, parseKeyFile, readKeyFile, unlockKeyFile } from './keyfile.js';
export * from './service.js';
export { evidenceOf, signHotChecked, spendIsSigned } from './signed.js';
export {
  applyPolicy,
  policyChainOf,
  proposePolicy,
  signGenesis,
  signPolicy,
  verifiedPolicyOf,
} from './trust.js';
export { fastPointAddScalar, fastSchnorrVerify, secpBackend } from './verifier.js';
export {
  DEFAULT_BLIND_AFTER_MS,
  DEFAULT_STALE_AFTER_MS,
  newPollMemo,
  type PollMemo,
  pollOnce,
  type WatchEvent,
  type WatchOptions,
  watch,
} from './watch.js';
export { watcherStatus } from './watch-store.js';

import type { Store } from '../storage/index.js';
import { tiers } from './service.js';

/**
 * The custody posture for other areas (bulletin's theft stories): hot float against its cap,
 * how much sits hot, whether every wallet has a policy, and whether custody is frozen.
 * @example const p = await custodyPosture(store); p.overCap
 */
export async function custodyPosture(store: Store) {
  const t = await tiers({ store });
  return {
    hotFloat: t.hotFloat,
    hotFloatCap: t.hotFloatCap,
    overCap: t.overCap,
    hotShare: t.hotShare,
    policyCoverage: t.policyCoverage,
    frozen: t.frozen,
    wallets: t.wallets.length,
  };
}
