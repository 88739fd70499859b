/**
 * CVSS scoring against third-party figures: every v3 vector in the PyPA database scored by our
 * formula equals metaeffekt's independent calculator, every (vector, base score) pair JVN
 * publishes in the MyJVN examples and the iPedia detail entries (v3.0 and v4.0) is met, and a
 * record without a severity of its own takes the severity its vectors give.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import cvssCalculator from 'ae-cvss-calculator';
import { describe, expect, it } from 'vitest';
import {
  cvss3Score10,
  cvss4Score10,
  severityOf3,
  severityOfRecord,
} from '../../src/vuln/core/cvss.js';
import { vector } from '../helpers/vectors.js';

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

describe('CVSS v3 base scores', () => {
  it('every CVSS v3 vector in the PyPA database scores as the independent calculator does', () => {
    const vectors = new Set<string>();
    for (const f of files(vector('vuln/osv/pypa'), '.yaml'))
      for (const m of readFileSync(f, 'utf8').matchAll(/score: (CVSS:3\.[01]\/\S+)/g))
        vectors.add(m[1]!);
    expect(vectors.size).toBeGreaterThan(50);
    for (const v of vectors) {
      const peer = v.startsWith('CVSS:3.1')
        ? new cvssCalculator.Cvss3P1(v)
        : new cvssCalculator.Cvss3P0(v);
      expect(cvss3Score10(v), v).toBe(Math.round(peer.calculateScores().base! * 10));
    }
  });
});

describe('JVN published scores (v3.0 and v4.0)', () => {
  const pairs: { vector: string; base: number }[] = [];
  for (const f of files(vector('vuln/jvn/myjvn-examples/oka'), '.json'))
    for (const m of readFileSync(f, 'utf8').matchAll(
      /"vectorString":\s*"(CVSS:[34]\.\d\/[^"]+)",\s*"baseScore":\s*([\d.]+)/g,
    ))
      pairs.push({ vector: m[1]!, base: Number(m[2]) });
  for (const f of files(vector('vuln/jvn/feed-detail'), '.json')) {
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    for (const c of doc.vulinfodata?.impact?.cvss ?? [])
      if (typeof c.vector === 'string' && c.vector.startsWith('CVSS:'))
        pairs.push({ vector: c.vector, base: Number(c.base) });
  }
  it('holds v3 and v4 pairs', () => {
    expect(pairs.some((p) => p.vector.startsWith('CVSS:4.0'))).toBe(true);
    expect(pairs.filter((p) => p.vector.startsWith('CVSS:3')).length).toBeGreaterThan(3);
  });
  it('every vector scores what JVN states', () => {
    for (const p of pairs) {
      const ours = p.vector.startsWith('CVSS:4') ? cvss4Score10(p.vector) : cvss3Score10(p.vector);
      expect(ours, p.vector).toBe(Math.round(p.base * 10));
    }
  });
});

describe('CVSS v4 refusals', () => {
  it('a missing or undefined base metric is no score (unknown), never 0', () => {
    const full = 'CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:L';
    expect(cvss4Score10(full)).toBe(95);
    expect(cvss4Score10(full.replace('/SA:L', ''))).toBeUndefined();
    expect(cvss4Score10(full.replace('AV:N', 'AV:Q'))).toBeUndefined();
    expect(cvss4Score10(full.replace('CVSS:4.0', 'CVSS:3.1'))).toBeUndefined();
    expect(cvss4Score10(`${full}/XX:Y`)).toBeUndefined();
    expect(cvss4Score10('garbage')).toBeUndefined();
  });
});

describe('severityOfRecord', () => {
  const none = { severity: null, score10: null, v2: null, v3: null, v4: null };
  it("keeps the source's own word", () => {
    expect(severityOfRecord({ ...none, severity: 'moderate' })).toMatchObject({
      severity: 'medium',
      basis: 'source',
    });
  });
  it('scores a v4-only record from its vector (JVN CVSS:4.0 example: 9.5, critical)', () => {
    const v4 = 'CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:L';
    expect(severityOfRecord({ ...none, v4 })).toEqual({
      severity: 'critical',
      score10: 95,
      basis: v4,
    });
  });
  it('v3 first, then v4, then v2; nothing scorable stays unknown', () => {
    const v3 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N';
    expect(severityOfRecord({ ...none, v3, v2: 'AV:N/AC:L/Au:N/C:N/I:N/A:P' })).toMatchObject({
      severity: severityOf3(75),
      score10: 75,
    });
    expect(severityOfRecord({ ...none, v2: 'AV:N/AC:L/Au:N/C:N/I:N/A:P' })).toMatchObject({
      severity: 'medium',
      score10: 50,
    });
    expect(severityOfRecord({ ...none, v4: 'CVSS:4.0/AV:N' }).severity).toBeNull();
    expect(severityOfRecord(none).severity).toBeNull();
  });
});
