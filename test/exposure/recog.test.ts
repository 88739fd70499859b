import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFingerprint, RecogEngine, readRecogXml } from '../../src/exposure/core/recog.js';
import { translateRubyRegex } from '../../src/exposure/core/ruby-regex.js';
import { loadEngine, loadRecogDir, mamoriDatabases } from '../../src/exposure/fingerprints.js';
import { vector } from '../helpers/vectors.js';

const recogDir = vector('recog/xml');

describe('Ruby regex translation', () => {
  const re = (src: string, flags = {}) => {
    const t = translateRubyRegex(src, flags);
    return new RegExp(t.source, t.flags);
  };
  it('scopes (?i:…) and (?m:…) groups to their group', () => {
    const r = re('^ab(?i:cd)ef$');
    expect(r.test('abCDef')).toBe(true);
    expect(r.test('ABcdef')).toBe(false);
    expect(r.test('abcdEF')).toBe(false);
    const d = re('a(?m:.)b.c');
    expect(d.test('a\nbxc')).toBe(true);
    expect(d.test('a\nb\nc')).toBe(false);
    expect(re('(?im:^x.y)').test('X\nY')).toBe(true);
  });
  it('keeps Ruby anchors: ^ $ per line, \\A \\z \\Z for the string', () => {
    expect(re('^b$').test('a\nb\nc')).toBe(true);
    expect(re('\\Ab').test('a\nb')).toBe(false);
    expect(re('b\\z').test('b\n')).toBe(false);
    expect(re('b\\Z').test('b\n')).toBe(true);
  });
  it('handles \\h, POSIX classes, {,n}, case in classes and the flags', () => {
    expect(re('^\\h+$').test('09afAF')).toBe(true);
    expect(re('^[[:alpha:]]+$').test('abcXYZ')).toBe(true);
    expect(re('^a{,2}$').test('aa')).toBe(true);
    expect(re('^(?i:[a-c]x)$').test('BX')).toBe(true);
    expect(re('^a.b$', { dotall: true }).test('a\nb')).toBe(true);
    expect(re('^ab$', { icase: true }).test('AB')).toBe(true);
    expect(translateRubyRegex('a*+b').approximations).toEqual([
      'possessive quantifier treated as greedy',
    ]);
  });
  it('finds the literals every match needs', () => {
    expect(translateRubyRegex('^Apache/([\\d.]+) \\(Ubuntu\\)$').literals).toEqual([
      ' (ubuntu)',
      'apache/',
    ]);
    expect(translateRubyRegex('^foo|bar').literals).toEqual([]);
    expect(translateRubyRegex('^abcd?e').literals).toEqual(['abc', 'e']);
  });
});

describe('Recog conformance (every <example> in ../shared/vectors/recog/xml)', () => {
  const dbs = [...loadRecogDir(recogDir), ...mamoriDatabases()];
  it('matches every example with exactly the expected params; lists any miss', () => {
    let total = 0;
    let ok = 0;
    const misses: string[] = [];
    for (const db of dbs) {
      expect(db.fingerprints.length).toBeGreaterThan(0);
      for (const fp of db.fingerprints) {
        for (const ex of fp.examples) {
          total++;
          const got = applyFingerprint(fp, ex.text);
          if (!got) {
            misses.push(
              `${db.name}: no match: ${fp.compileError ?? fp.pattern} on ${JSON.stringify(ex.text).slice(0, 120)}`,
            );
            continue;
          }
          const wrong = Object.entries(ex.expected).filter(([k, v]) => got[k] !== v);
          if (wrong.length === 0) ok++;
          else misses.push(`${db.name}: params differ: ${JSON.stringify(wrong)} (${fp.pattern})`);
        }
      }
    }
    if (misses.length)
      console.log(`Recog examples not matched (${misses.length}):\n${misses.join('\n')}`);
    expect(total).toBeGreaterThan(7000);
    expect(misses).toEqual([]);
    expect(ok).toBe(total);
  });
  it('recalls every example through the engine, asking only the database for its field', () => {
    const engine = loadEngine(recogDir);
    expect(loadEngine(recogDir)).toBe(engine); // compiled once, cached
    const misses: string[] = [];
    let n = 0;
    for (const db of dbs)
      for (const fp of db.fingerprints)
        for (const ex of fp.examples) {
          n++;
          const m = engine.match(db.matches ?? db.name, ex.text);
          if (!m || Object.entries(ex.expected).some(([k, v]) => m.params[k] !== v))
            misses.push(`${db.matches ?? db.name}: ${JSON.stringify(ex.text).slice(0, 100)}`);
        }
    expect(n).toBeGreaterThan(7000);
    expect(misses).toEqual([]);
  });
  it('defuses (X+)* so V8 cannot backtrack exponentially, with the same match and capture', () => {
    const t = translateRubyRegex('^([^ ]{1,512}) SMTP NAVIEG ([^ ]+); (.+)* http', {
      icase: false,
      dotall: false,
    });
    expect(t.source).toContain('([^\\n]+)? http');
    expect(t.approximations.join()).toContain('(X+)*');
    const r = new RegExp(t.source, t.flags);
    expect(r.exec('a SMTP NAVIEG b.c; x y http')?.[3]).toBe('x y');
    // an almost-matching banner: exponential before the rewrite, one pass after
    expect(r.test(`a SMTP NAVIEG b.c; ${'x'.repeat(5000)}`)).toBe(false);
  });
  it('the prefiltered engine answers exactly as a linear scan of every regex', () => {
    const engine = new RecogEngine(dbs);
    let n = 0;
    let pruned = 0;
    for (const db of dbs) {
      for (const fp of db.fingerprints) {
        for (const ex of fp.examples.slice(0, 2)) {
          n++;
          expect(engine.match(db.name, ex.text)).toEqual(engine.matchLinear(db.name, ex.text));
          pruned += db.fingerprints.length - engine.candidates(db.name, ex.text).length;
        }
      }
    }
    expect(n).toBeGreaterThan(4000);
    // the prefilter must actually prune: on average most regexes are never tried
    expect(pruned / n).toBeGreaterThan(50);
  });
  it('fingerprints camera banners with vendor, product and CPE', () => {
    const engine = new RecogEngine(dbs);
    expect(engine.match('rtsp_header.server', 'Dahua Rtsp Server')?.params).toMatchObject({
      'hw.vendor': 'Dahua',
      'hw.device': 'IP Camera',
    });
    const ssh = engine.match('ssh.banner', 'OpenSSH_8.4p1 Debian-5');
    expect(ssh?.params['service.product']).toBe('OpenSSH');
    expect(ssh?.params['service.version']).toBe('8.4p1');
    expect(engine.match('mamori.html_title', 'NETSurveillance WEB')?.params['hw.vendor']).toBe(
      'Xiongmai',
    );
  });
});

describe('Recog XML reader', () => {
  it('reads attributes, text, entities, comments and CDATA, and rejects broken XML', () => {
    const doc = readRecogXml(
      `<?xml version="1.0"?><!-- c --><fingerprints matches="x"><fingerprint pattern="a&amp;b&#x41;&lt;"><description>d &quot;q&quot;</description><example k="v">t<![CDATA[<raw>]]></example><param pos="0" name="n" value="&apos;v&apos;"/></fingerprint></fingerprints>`,
    ) as { fingerprints: { matches: string; fingerprint: Record<string, unknown>[] } };
    expect(doc.fingerprints.matches).toBe('x');
    const fp = doc.fingerprints.fingerprint[0]!;
    expect(fp.pattern).toBe('a&bA<');
    expect(fp.description).toBe('d "q"');
    expect(fp.example).toEqual([{ k: 'v', '#text': 't<raw>' }]);
    expect(fp.param).toEqual([{ pos: '0', name: 'n', value: "'v'" }]);
    expect(() => readRecogXml('<a><b></a>')).toThrow(/mismatched/);
    expect(() => readRecogXml('<a>')).toThrow(/unclosed/);
    const dir = mkdtempSync(join(tmpdir(), 'mamori-recog-'));
    try {
      writeFileSync(join(dir, 'bad.xml'), '<fingerprints>\n<fingerprint>\n</fingerprints>');
      expect(() => loadRecogDir(dir)).toThrow(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringMatching(/bad\.xml:3: /),
        }),
      );
      // a pattern that does not compile is named with its file and line, not skipped
      writeFileSync(
        join(dir, 'bad.xml'),
        '<fingerprints matches="x">\n  <fingerprint pattern="^ok$"><description>fine</description></fingerprint>\n  <fingerprint pattern="^(broken"><description>bad one</description></fingerprint>\n</fingerprints>',
      );
      expect(() => loadRecogDir(dir)).toThrow(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringMatching(/bad\.xml:3: fingerprint "bad one" does not compile/),
        }),
      );
      // the engine cache sees the file change
      writeFileSync(
        join(dir, 'bad.xml'),
        '<fingerprints matches="x"><fingerprint pattern="^ok$"><description>fine</description></fingerprint></fingerprints>',
      );
      const e1 = loadEngine(dir);
      expect(loadEngine(dir)).toBe(e1);
      writeFileSync(
        join(dir, 'bad.xml'),
        '<fingerprints matches="x"><fingerprint pattern="^ok2$"><description>fine 2</description></fingerprint></fingerprints>',
      );
      const e2 = loadEngine(dir);
      expect(e2).not.toBe(e1);
      expect(e2.match('x', 'ok2')?.description).toBe('fine 2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
