/**
 * The custody engine's shell, one module per concern (wallets, addresses, policy, withdrawals,
 * chain sync, sweeps, audit, freeze); this file only gathers them for `index.ts` and for
 * modules that imported it before the split. Not the chain follower: see `watch.ts`.
 */
export * from './addresses.js';
export * from './audit.js';
export * from './balances.js';
export * from './context.js';
export * from './freeze.js';
export * from './policy.js';
export * from './sweeps.js';
export * from './sync.js';
export * from './wallets.js';
export * from './withdrawals.js';
