/**
 * Does the honeypot look like a camera to a fingerprint engine? Its live HTTP and RTSP `Server`
 * banners are matched against every fingerprint of Rapid7 Recog (../shared/vectors/recog);
 * the first match must be the camera software we imitate. Each matched fingerprint's own
 * examples are checked too, so a broken pattern conversion cannot pass unnoticed.
 */
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHoneypot, startHoneypot } from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { httpReq, RawClient } from './simulator.js';

interface Fingerprint {
  pattern: string;
  description: string;
  examples: string[];
  params: Record<string, string>;
}

/** Recog patterns are Ruby regexes: turn the few Ruby-only pieces into JavaScript. */
function toJs(pattern: string): RegExp | undefined {
  let flags = '';
  let p = pattern;
  const lead = /^\(\?([imx]+)\)/.exec(p);
  if (lead) {
    if (lead[1]!.includes('i')) flags += 'i';
    if (lead[1]!.includes('m')) flags += 's';
    p = p.slice(lead[0].length);
  }
  p = p.replace(/\\A/g, '^').replace(/\\[Zz]/g, '$');
  try {
    return new RegExp(p, flags);
  } catch {
    return undefined; // a construct JavaScript lacks: this fingerprint cannot match anything here
  }
}

function loadRecog(file: string): Fingerprint[] {
  const xml = readFileSync(vector(`recog/xml/${file}`), 'utf8');
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
    fingerprints: { fingerprint: unknown[] };
  };
  const arr = (x: unknown) => (Array.isArray(x) ? x : x === undefined ? [] : [x]);
  return doc.fingerprints.fingerprint.map((f) => {
    const fp = f as {
      pattern: string;
      description: string;
      example?: unknown;
      param?: unknown;
    };
    return {
      pattern: fp.pattern,
      description: String(fp.description),
      examples: arr(fp.example)
        .filter(
          (e) => typeof e === 'string' || (e as { _encoding?: string })._encoding === undefined,
        )
        .map((e) => (typeof e === 'string' ? e : String((e as { '#text': unknown })['#text']))),
      params: Object.fromEntries(
        arr(fp.param)
          .filter((p) => (p as { value?: string }).value !== undefined)
          .map((p) => [(p as { name: string }).name, (p as { value: string }).value]),
      ),
    };
  });
}

function firstMatch(db: Fingerprint[], banner: string): Fingerprint | undefined {
  return db.find((f) => toJs(f.pattern)?.test(banner));
}

describe('the honeypot as Recog sees it', () => {
  let t: TestStore;
  let hp: RunningHoneypot;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    hp = await startHoneypot({ store: t.store, ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 } });
  });
  afterAll(async () => {
    await hp?.stop();
    await t?.cleanup();
  });

  it('its HTTP Server header is a Netwave IP camera (the Foscam-clone family)', async () => {
    const db = loadRecog('http_servers.xml');
    expect(db.length).toBeGreaterThan(400);
    const res = await httpReq('127.0.0.1', hp.ports.http, '/');
    const banner = String(res.headers.server);
    const fp = firstMatch(db, banner);
    expect(fp?.params).toMatchObject({ 'hw.vendor': 'Netwave', 'hw.device': 'IP Camera' });
    for (const ex of fp!.examples) expect(toJs(fp!.pattern)!.test(ex)).toBe(true);
  });

  it('its RTSP Server header is a Hipcam IP camera', async () => {
    const db = loadRecog('rtsp_servers.xml');
    const c = new RawClient('127.0.0.1', hp.ports.rtsp);
    await c.ready;
    c.send('OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const text = await c.waitFor(/\r\n\r\n$/);
    await c.close();
    const banner = /^Server: (.*)$/m.exec(text)?.[1]?.trim() ?? '';
    const fp = firstMatch(db, banner);
    expect(fp?.params).toMatchObject({ 'hw.vendor': 'Hipcam', 'hw.device': 'IP Camera' });
    for (const ex of fp!.examples) expect(toJs(fp!.pattern)!.test(ex)).toBe(true);
  });
});
