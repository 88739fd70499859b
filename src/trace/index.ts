/**
 * The trace area's public surface: taint tracing of stolen funds (poison and haircut, after
 * BlockSci) and deposit screening (for the custody area). Other areas, cli/ and web/ import
 * only this file.
 */
export { type ChainName, parseBlock, parseBlockFile, parseRawTx } from './core/block.js';
export { buildGraph, orderBlocks, parseOutpoint, TxGraph } from './core/graph.js';
export {
  type DenseTaintResult,
  type TaintModel,
  type TaintResult,
  taint,
  taintDense,
} from './core/taint.js';
export {
  type FlowEdge,
  type FlowNode,
  recordScreening,
  type ScreeningEntry,
  screeningLog,
  type TaintFlow,
  taintFlow,
} from './flow.js';
export { ingestFiles, ingestFromNode } from './ingest.js';
export {
  type IngestSummary,
  listTags,
  recentResults,
  type ScreenOptions,
  type ScreenResult,
  type StoredTaintResult,
  screenDeposit,
  type TaintQuery,
  tagFunds,
  taintFromStore,
  traceStats,
  type Verdict,
} from './store.js';
