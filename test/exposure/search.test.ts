import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatQuery,
  parseQuery,
  type QueryNode,
  stripPositions,
} from '../../src/exposure/core/query.js';
import { search } from '../../src/exposure/search.js';
import { createScan, recordFinding, recordService } from '../../src/exposure/store.js';
import { generateQueryParser } from '../../src/exposure/tools/gen-query-parser.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

describe('query language', () => {
  it('the committed parser is generated from the committed grammar', () => {
    const committed = readFileSync(
      fileURLToPath(new URL('../../src/exposure/core/query-parser.generated.ts', import.meta.url)),
      'utf8',
    );
    expect(committed).toBe(generateQueryParser());
  });
  it('binds OR looser than AND, and NOT / - tightest', () => {
    expect(stripPositions(parseQuery('a OR b c'))).toEqual({
      type: 'or',
      items: [
        { type: 'text', value: 'a' },
        {
          type: 'and',
          items: [
            { type: 'text', value: 'b' },
            { type: 'text', value: 'c' },
          ],
        },
      ],
    });
    expect(stripPositions(parseQuery('NOT a b'))).toEqual({
      type: 'and',
      items: [
        { type: 'not', item: { type: 'text', value: 'a' } },
        { type: 'text', value: 'b' },
      ],
    });
    expect(stripPositions(parseQuery('-port:22 AND (port:80 OR port:443)'))).toEqual({
      type: 'and',
      items: [
        { type: 'not', item: { type: 'field', name: 'port', value: '22' } },
        {
          type: 'or',
          items: [
            { type: 'field', name: 'port', value: '80' },
            { type: 'field', name: 'port', value: '443' },
          ],
        },
      ],
    });
  });
  const field = fc.oneof(
    fc.record({
      type: fc.constant('field' as const),
      name: fc.constant('port'),
      value: fc.integer({ min: 1, max: 65535 }).map(String),
      quoted: fc.constant(false),
      pos: fc.constant(0),
    }),
    fc.record({
      type: fc.constant('field' as const),
      name: fc.constantFrom('product', 'vendor', 'title'),
      value: fc.string({ minLength: 1, maxLength: 12 }),
      quoted: fc.boolean(),
      pos: fc.constant(0),
    }),
    fc.record({
      type: fc.constant('field' as const),
      name: fc.constant('has_auth'),
      value: fc.constantFrom('true', 'false'),
      quoted: fc.constant(false),
      pos: fc.constant(0),
    }),
    fc.record({
      type: fc.constant('text' as const),
      value: fc.string({ minLength: 1, maxLength: 12 }),
      quoted: fc.boolean(),
      pos: fc.constant(0),
    }),
  );
  const tree: fc.Arbitrary<QueryNode> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      field,
      fc.record({
        type: fc.constant('not' as const),
        item: tie('node') as fc.Arbitrary<QueryNode>,
      }),
      fc.record({
        type: fc.constant('and' as const),
        items: fc.array(tie('node') as fc.Arbitrary<QueryNode>, { minLength: 2, maxLength: 3 }),
      }),
      fc.record({
        type: fc.constant('or' as const),
        items: fc.array(tie('node') as fc.Arbitrary<QueryNode>, { minLength: 2, maxLength: 3 }),
      }),
    ),
  })).node as fc.Arbitrary<QueryNode>;
  // and/or nested directly in the same kind flatten when printed; compare flattened trees
  const flatten = (n: QueryNode): QueryNode => {
    if (n.type === 'and' || n.type === 'or') {
      const items = n.items.map(flatten).flatMap((c) => (c.type === n.type ? c.items : [c]));
      return { type: n.type, items } as QueryNode;
    }
    if (n.type === 'not') return { type: 'not', item: flatten(n.item) };
    return n;
  };
  it('round-trips: parse(format(tree)) = tree (property)', () => {
    fc.assert(
      fc.property(tree, (t) => {
        expect(stripPositions(parseQuery(formatQuery(t)))).toEqual(stripPositions(flatten(t)));
      }),
      { numRuns: 300 },
    );
  });
  it.each([
    ['port:', 'needs a value'],
    ['port:80 (', 'position 10'],
    ['colour:red', 'unknown field'],
    ['http.status:ok', 'needs a number'],
    ['after:yesterday', 'needs a date'],
    ['net:10.0.0/8', 'position 11'],
    ['has_auth:maybe', 'true or false'],
  ])('rejects %s with a position', (q, msg) => {
    expect(() => parseQuery(q)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => parseQuery(q)).toThrow(msg);
  });
});

for (const backend of testBackends()) {
  describe(`search (${backend})`, () => {
    let t: TestStore;
    const svc = async (
      scanId: number,
      ip: string,
      port: number,
      o: {
        protocol: string;
        vendor?: string;
        product?: string;
        title?: string;
        status?: number;
        auth?: boolean | null;
        banner: string;
        cn?: string;
        seen?: string;
      },
    ) =>
      recordService(t.store, {
        scanId,
        ip,
        port,
        transport: 'tcp',
        seen: o.seen ?? '2026-11-25T10:00:00.000Z',
        grab: {
          protocol: o.protocol,
          raw: Buffer.from(o.banner),
          data: {
            ...(o.status
              ? { http: { status: o.status, headers: {}, ...(o.title ? { title: o.title } : {}) } }
              : {}),
            ...(o.cn
              ? {
                  tls: {
                    subject_cn: o.cn,
                    subject: `CN=${o.cn}`,
                    issuer: 'CN=x',
                    sans: [],
                    fingerprint_sha256: 'ab',
                  },
                }
              : {}),
          },
          authRequired: o.auth ?? null,
          fingerprintInputs: [],
        },
        identity: {
          vendor: o.vendor ?? null,
          product: o.product ?? null,
          version: null,
          deviceType: null,
          cpe: null,
          params: {},
          matched: [],
        },
      });
    beforeAll(async () => {
      t = await freshStore(backend);
      const scan = await createScan(t.store, {
        targets: ['198.18.0.0/16'],
        ports: [],
        options: { rate: 1, concurrency: 1, perHost: 1, timeoutMs: 1, retries: 0, udp: false },
        total: 0,
        now: '2026-11-25T10:00:00.000Z',
      });
      await svc(scan, '198.18.0.10', 554, {
        protocol: 'rtsp',
        vendor: 'Hikvision',
        product: 'IP Camera',
        auth: false,
        banner: 'RTSP/1.0 200 OK Server: Hikvision',
      });
      await svc(scan, '198.18.0.11', 80, {
        protocol: 'http',
        vendor: 'Hikvision',
        product: 'IP Camera',
        title: 'Web Login',
        status: 401,
        auth: true,
        banner: 'HTTP/1.1 401 Unauthorized',
      });
      await svc(scan, '198.18.0.11', 22, {
        protocol: 'ssh',
        product: 'OpenSSH',
        auth: true,
        banner: 'SSH-2.0-OpenSSH_9.2p1 Debian',
      });
      await svc(scan, '198.18.1.5', 443, {
        protocol: 'https',
        vendor: 'Axis',
        product: 'Axis Camera',
        title: "Robert'); DROP TABLE exposure_service;--",
        status: 200,
        auth: false,
        banner: 'HTTP/1.1 200 OK',
        cn: 'cam.example.test',
      });
      await svc(scan, '127.0.0.1', 23, {
        protocol: 'telnet',
        banner: '\u001b[31m(none) login: ',
        auth: true,
        seen: '2025-06-01T00:00:00.000Z',
      });
      await recordFinding(t.store, {
        ip: '198.18.0.10',
        port: 554,
        kind: 'no-auth',
        detail: 'DESCRIBE answered 200',
        time: '2026-11-25T10:00:00.000Z',
      });
    });
    afterAll(() => t.cleanup());
    const ips = async (q: string) =>
      (await search(t.store, q)).matches.map((m) => `${m.ip}:${m.port}`).sort();
    it('answers field, negation, boolean and free-text queries exactly', async () => {
      expect(await ips('port:554')).toEqual(['198.18.0.10:554']);
      expect(await ips('vendor:hikvision -port:554')).toEqual(['198.18.0.11:80']);
      expect(await ips('has_auth:false')).toEqual(['198.18.0.10:554', '198.18.1.5:443']);
      expect(await ips('net:198.18.0.0/24 AND (port:22 OR port:80)')).toEqual([
        '198.18.0.11:22',
        '198.18.0.11:80',
      ]);
      expect(await ips('NOT net:198.18.0.0/16')).toEqual(['127.0.0.1:23']);
      expect(await ips('http.status:401')).toEqual(['198.18.0.11:80']);
      expect(await ips('ssl.cert.subject.cn:cam.example.test')).toEqual(['198.18.1.5:443']);
      expect(await ips('title:"web login"')).toEqual(['198.18.0.11:80']);
      expect(await ips('OpenSSH')).toEqual(['198.18.0.11:22']);
      expect(await ips('"OpenSSH_9.2p1 Debian"')).toEqual(['198.18.0.11:22']);
      expect(await ips('before:2026-01-01')).toEqual(['127.0.0.1:23']);
      expect(await ips('after:2026-01-01 product:"IP Camera"')).toEqual([
        '198.18.0.10:554',
        '198.18.0.11:80',
      ]);
      expect(await ips('product:"Axis*"')).toEqual(['198.18.1.5:443']);
    });
    it('returns the issue JSON shape with findings and facets', async () => {
      const r = await search(t.store, 'port:554', { facets: ['port', 'vendor', 'has_auth'] });
      expect(r.total).toBe(1);
      expect(r.matches[0]).toEqual({
        ip: '198.18.0.10',
        port: 554,
        transport: 'tcp',
        protocol: 'rtsp',
        vendor: 'Hikvision',
        product: 'IP Camera',
        version: null,
        title: null,
        auth_required: false,
        findings: ['no-auth'],
        seen: '2026-11-25T10:00:00.000Z',
      });
      const all = await search(t.store, '', { facets: ['vendor', 'has_auth'], limit: 2 });
      expect(all.total).toBe(5);
      expect(all.matches).toHaveLength(2);
      expect(all.facets.vendor).toHaveLength(3);
      expect(all.facets.vendor?.[0]).toEqual({ value: 'Hikvision', count: 2 });
      expect(all.facets.vendor).toContainEqual({ value: null, count: 2 });
      expect(all.facets.vendor).toContainEqual({ value: 'Axis', count: 1 });
      expect(all.facets.has_auth).toContainEqual({ value: true, count: 3 });
      expect(all.facets.has_auth).toContainEqual({ value: false, count: 2 });
    });
    it('caps the count with total_relation, facets over the counted matches, pages newest first', async () => {
      const exact = await search(t.store, 'port:554', { facets: ['port'] });
      expect(exact.total_relation).toBe('eq');
      expect(exact.facets_over).toBe(1);
      const all = await search(t.store, '');
      expect(all.total_relation).toBe('eq');
      expect(all.matches.map((m) => m.port)).toEqual([23, 443, 22, 80, 554]);
      const capped = await search(t.store, '', { totalCap: 3, facets: ['has_auth'], limit: 4 });
      expect(capped.total).toBe(3);
      expect(capped.total_relation).toBe('gte');
      expect(capped.facets_over).toBe(3);
      expect(capped.facets.has_auth?.reduce((n, f) => n + f.count, 0)).toBe(3);
      expect(capped.matches.map((m) => m.port)).toEqual([23, 443, 22, 80]);
      const text = await search(t.store, 'login', { totalCap: 1, limit: 1 });
      expect(text.total_relation).toBe('gte');
      expect(text.matches.map((m) => m.port)).toEqual([23]);
      expect(await ips('login -port:80')).toEqual(['127.0.0.1:23']);
      expect(await ips('login port:80')).toEqual(['198.18.0.11:80']);
      expect(await ips('Hikvision "RTSP/1.0" has_auth:false')).toEqual(['198.18.0.10:554']);
      expect(await ips('OpenSSH OR port:554')).toEqual(['198.18.0.10:554', '198.18.0.11:22']);
      expect(await ips('net:198.18.0.0/24 -port:22')).toEqual([
        '198.18.0.10:554',
        '198.18.0.11:80',
      ]);
    });
    it('keeps injection attempts as data', async () => {
      for (const q of [
        `title:"'); DROP TABLE exposure_service;--"`,
        `"' OR 1=1 --"`,
        `product:"x' OR '1'='1"`,
        `"NEAR(a b)" OR "col:*"`,
        `title:"%"`,
        `vendor:"\\"; select 1; --"`,
      ]) {
        const r = await search(t.store, q);
        expect(r.total).toBeLessThanOrEqual(1);
      }
      expect(await ips(`title:"DROP TABLE exposure_service"`)).toEqual(['198.18.1.5:443']);
      expect(await ips(`title:"%"`)).toEqual([]);
      expect((await search(t.store, '')).total).toBe(5);
    });
  });
}
