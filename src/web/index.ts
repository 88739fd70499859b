/** The service's public surface. */
export { AREA_WEBS, createApp } from './app.js';
export { type AccessConfig, IN_PROCESS_ACCESS } from './guard.js';
export { isLoopback, type RunningServer, startServer } from './server.js';
export type { AreaWeb, PageCtx, WebDeps } from './types.js';
