/** The store's public surface. */
export {
  type Backend,
  type DbTarget,
  migrate,
  openDb,
  parseDbTarget,
  redactUrl,
  type Store,
  type StoreStatus,
  schemaState,
  storeStatus,
} from './db.js';
export { addIdColumn, INT64, isPostgres } from './migrations/helpers.js';
export type { Database } from './schema.js';
