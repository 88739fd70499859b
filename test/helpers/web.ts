/**
 * The service in process with a real credential: a bearer token made in the store through the
 * access area, sent on every request. The access gate stays in place and checks it like any
 * other token (STYLE.md "Web": createApp + app.request).
 */
import { createToken, type Role } from '../../src/access/index.js';
import type { Store } from '../../src/storage/index.js';
import { createApp } from '../../src/web/index.js';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  token: string;
  /** app.request with `Authorization: Bearer <token>` added. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * @example const { request } = await testApp(t.store); const r = await request('/api/v1/status');
 */
export async function testApp(
  store: Store,
  version = 'test',
  role: Role = 'admin',
): Promise<TestApp> {
  const app = createApp({ store, version });
  const { token } = await createToken(store, { role, ttlMs: 3_600_000, label: `test ${role}` });
  return {
    app,
    token,
    request: async (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return app.request(path, { ...init, headers });
    },
  };
}
