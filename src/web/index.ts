/** The service's public surface. */
export { AREA_WEBS, createApp } from './app.js';
export { type RunningServer, startServer } from './server.js';
export type { AreaWeb, WebDeps } from './types.js';
