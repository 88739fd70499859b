/**
 * `openCameras` (the console's "anyone can log in" list) reads findings first and their
 * services by the service key; it must equal the plain join of findings and services on
 * address and port, including a port open on TCP and UDP, IPv6, and findings of other kinds.
 * On every backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCameras } from '../../src/exposure/index.js';
import { ipKey } from '../../src/exposure/search.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

function service(ip: string, port: number, transport: string, product: string) {
  return {
    ip,
    ip_key: ipKey(ip),
    port,
    transport,
    protocol: 'rtsp',
    vendor: 'Hikvision',
    product,
    version: null,
    device_type: 'webcam',
    cpe: null,
    title: null,
    http_status: null,
    cert_cn: null,
    auth_required: 0,
    banner: '',
    data: '{}',
    first_seen: '2026-11-01T00:00:00.000Z',
    last_seen: '2026-11-01T00:00:00.000Z',
    scan_id: 1,
  };
}

for (const backend of testBackends())
  describe(`open cameras (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('equals the join of findings and services on address and port', async () => {
      await t.store.db
        .insertInto('exposure_service')
        .values([
          service('192.0.2.1', 554, 'tcp', 'cam-a'),
          service('192.0.2.1', 554, 'udp', 'cam-a-udp'),
          service('192.0.2.2', 80, 'tcp', 'cam-b'),
          service('2001:db8::5', 8080, 'tcp', 'cam-c'),
          service('192.0.2.3', 23, 'tcp', 'telnetd'),
        ])
        .execute();
      const f = (ip: string, port: number, kind: string, time: string) => ({
        ip,
        port,
        kind,
        detail: '{}',
        time,
      });
      await t.store.db
        .insertInto('exposure_finding')
        .values([
          f('192.0.2.1', 554, 'no-auth', '2026-11-02T00:00:00.000Z'),
          f('192.0.2.2', 80, 'default-credentials', '2026-11-03T00:00:00.000Z'),
          f('2001:db8::5', 8080, 'auth-bypass', '2026-11-01T00:00:00.000Z'),
          f('192.0.2.3', 23, 'has-vuln', '2026-11-04T00:00:00.000Z'),
          f('192.0.2.9', 554, 'no-auth', '2026-11-05T00:00:00.000Z'),
        ])
        .execute();
      const joined = await t.store.db
        .selectFrom('exposure_finding as f')
        .innerJoin('exposure_service as s', (j) =>
          j.onRef('s.ip', '=', 'f.ip').onRef('s.port', '=', 'f.port'),
        )
        .select([
          'f.ip',
          'f.port',
          'f.kind',
          'f.time',
          's.vendor',
          's.product',
          's.protocol',
          's.device_type',
        ])
        .where('f.kind', 'in', [
          'no-auth',
          'default-credentials',
          'weak-auth-control-failed',
          'unauthenticated-path',
          'auth-bypass',
        ])
        .orderBy('f.time', 'desc')
        .orderBy('s.id')
        .execute();
      const got = await openCameras(t.store);
      expect(got).toEqual(joined.map((r) => ({ ...r, port: Number(r.port) })));
      expect(got.map((r) => r.product)).toEqual(['cam-b', 'cam-a', 'cam-a-udp', 'cam-c']);
    });
  });
