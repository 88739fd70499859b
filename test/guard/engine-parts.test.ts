import { describe, expect, it } from 'vitest';
import { compileRuleSet, newTransaction, runPhase } from '../../src/guard/core/engine.js';
import { compileOperator } from '../../src/guard/core/operators.js';
import { compilePcre, translatePcre } from '../../src/guard/core/pcre.js';
import type { HttpRequest } from '../../src/guard/core/request.js';
import {
  emptyRuleSet,
  parseActions,
  parseRules,
  parseVariables,
} from '../../src/guard/core/seclang.js';
import { TRANSFORMS } from '../../src/guard/core/transforms.js';

const t = (name: string, s: string) => (TRANSFORMS[name] as (x: string) => string)(s);
const op = (name: string, param: string) =>
  compileOperator(name, param, { readData: () => 'alpha\n# comment\nbeta\n' });
const id = (s: string) => s;

describe('PCRE translation', () => {
  it('moves leading flags and always adds dotall', () => {
    expect(translatePcre('(?i)abc')).toMatchObject({ source: 'abc', flags: 'si' });
  });
  it('turns possessive quantifiers and atomic groups into greedy ones', () => {
    expect(translatePcre('a++b*+(?>cd)').source).toBe('a+b*(?:cd)');
  });
  it('translates \\A \\z \\Z and \\h', () => {
    expect(translatePcre('\\Aa\\z').source).toBe('^a$');
    expect(compilePcre('a\\Z')).toMatchObject({ regex: expect.any(RegExp) });
    expect((compilePcre('x\\hy') as { regex: RegExp }).regex.test('x\ty')).toBe(true);
  });
  it('case-folds scoped (?i:…) groups', () => {
    const c = compilePcre('a(?i:bc)d') as { regex: RegExp };
    expect(c.regex.test('aBCd')).toBe(true);
    expect(c.regex.test('ABCd')).toBe(false);
  });
  it('keeps a leading ] in a class literal and expands POSIX classes', () => {
    const c = compilePcre('[]a]') as { regex: RegExp };
    expect(c.regex.test(']')).toBe(true);
    const d = compilePcre('^[[:digit:]]+$') as { regex: RegExp };
    expect(d.regex.test('123')).toBe(true);
    expect(d.regex.test('12a')).toBe(false);
  });
  it('reports what V8 cannot compile', () => {
    expect(compilePcre('(?R)')).toHaveProperty('error');
  });
});

describe('transformations', () => {
  it('decodes URLs, %u escapes and full-width ASCII', () => {
    expect(t('urlDecodeUni', 'a%20b+c%u0041%uff41%zz')).toBe('a b cAa%zz');
    expect(t('urlDecode', '%41%4')).toBe('A%4');
  });
  it('decodes HTML entities, JS and CSS escapes', () => {
    expect(t('htmlEntityDecode', '&lt;&#x41;&#66;&quot;&bogus;')).toBe('<AB"&bogus;');
    // ModSecurity reads any number of digits (strtol): leading zeros do not hide a character
    expect(
      t('htmlEntityDecode', '&#00000000000000000000000000000000123;&#x000000000000007d;'),
    ).toBe('{}');
    expect(t('jsDecode', '\\x41\\u0042\\n\\101')).toBe('AB\nA');
    expect(t('cssDecode', '\\61 b\\000063')).toBe('abc');
  });
  it('normalizes whitespace, nulls, paths and command lines', () => {
    expect(t('compressWhitespace', 'a \t\n b')).toBe('a b');
    expect(t('removeWhitespace', 'a b\tc')).toBe('abc');
    expect(t('removeNulls', 'a\0b')).toBe('ab');
    expect(t('normalizePath', '/a/./b/../c//d')).toBe('/a/c/d');
    expect(t('normalizePathWin', 'a\\..\\b')).toBe('b');
    expect(t('cmdLine', 'c^a\'t "/etc/passwd";ls')).toBe('cat/etc/passwd ls');
  });
  it('decodes base64 and hex, and hashes', () => {
    expect(t('base64Decode', 'aGVsbG8=')).toBe('hello');
    expect(t('hexDecode', '414243')).toBe('ABC');
    expect(t('hexEncode', 'AB')).toBe('4142');
    expect(t('length', 'abcd')).toBe('4');
    expect(t('hexEncode', t('sha1', 'abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(t('hexEncode', t('md5', 'abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
  });
  it('maps UTF-8 to %u and lowercases', () => {
    expect(t('utf8toUnicode', 'a\xc3\xa9')).toBe('a%u00e9');
    expect(t('lowercase', 'AbC')).toBe('abc');
    expect(t('replaceComments', 'a/*x*/b/*y')).toBe('a b ');
  });
});

describe('operators', () => {
  it('@rx captures and @pm/@pmFromFile match phrases case-insensitively', () => {
    expect(op('rx', '(b+)c')('abbc', id)).toEqual({ matched: true, captures: ['bbc', 'bb'] });
    expect(op('pm', 'foo bar')('xxBARxx', id).matched).toBe(true);
    expect(op('pmFromFile', 'x.data')('the BETA test', id).matched).toBe(true);
    expect(op('pmFromFile', 'x.data')('comment', id).matched).toBe(false);
  });
  it('@detectSQLi and @detectXSS', () => {
    expect(op('detectSQLi', '')("1' or '1'='1", id)).toMatchObject({ matched: true });
    expect(op('detectSQLi', '')('hello world', id).matched).toBe(false);
    expect(op('detectXSS', '')('<script>alert(1)</script>', id).matched).toBe(true);
  });
  it('validates byte ranges, URL encoding and UTF-8', () => {
    expect(op('validateByteRange', '32-126')('abc', id).matched).toBe(false);
    expect(op('validateByteRange', '32-126')('ab\x01', id).matched).toBe(true);
    expect(op('validateUrlEncoding', '')('a%2', id).matched).toBe(true);
    expect(op('validateUrlEncoding', '')('a%20', id).matched).toBe(false);
    expect(op('validateUtf8Encoding', '')('\xc3\xa9', id).matched).toBe(false);
    expect(op('validateUtf8Encoding', '')('\xc3\x28', id).matched).toBe(true);
    expect(op('validateUtf8Encoding', '')('\xc0\xaf', id).matched).toBe(true);
  });
  it('matches IPv4 and IPv6 networks', () => {
    const m = op('ipMatch', '127.0.0.0/8,::1,10.1.2.3');
    expect(m('127.9.9.9', id).matched).toBe(true);
    expect(m('::1', id).matched).toBe(true);
    expect(m('10.1.2.3', id).matched).toBe(true);
    expect(m('10.1.2.4', id).matched).toBe(false);
  });
  it('compares numbers and strings, with macros', () => {
    expect(op('ge', '5')('5', id).matched).toBe(true);
    expect(op('lt', '5')('5', id).matched).toBe(false);
    expect(op('eq', '%{tx.x}')('7', () => '7').matched).toBe(true);
    expect(op('streq', 'POST')('POST', id).matched).toBe(true);
    expect(op('within', 'GET HEAD POST')('HEAD', id).matched).toBe(true);
    expect(op('beginsWith', 'ab')('abc', id).matched).toBe(true);
    expect(op('endsWith', 'bc')('abc', id).matched).toBe(true);
    expect(op('contains', 'b')('abc', id).matched).toBe(true);
    expect(op('unconditionalMatch', '')('', id).matched).toBe(true);
  });
  it('refuses unusable parameters', () => {
    expect(() => op('validateByteRange', 'x-y')).toThrow();
    expect(() => op('ipMatch', '300.1.1.1')).toThrow();
  });
});

describe('SecLang parser', () => {
  it('parses variables with exclusions, counts, regex keys and XPath', () => {
    const v = parseVariables('ARGS|!ARGS:foo|&TX:x|REQUEST_COOKIES:/^__utm/|XML:/*|XML://@*');
    expect(v.map((x) => [x.collection, x.key, x.exclude, x.count])).toEqual([
      ['ARGS', undefined, false, false],
      ['ARGS', 'foo', true, false],
      ['TX', 'x', false, true],
      ['REQUEST_COOKIES', undefined, false, false],
      ['XML', '/*', false, false],
      ['XML', '//@*', false, false],
    ]);
    expect(v[3]?.keyRegex?.test('__utmz')).toBe(true);
  });
  it('parses actions with quoted values', () => {
    expect(parseActions("id:1,msg:'a, b',setvar:'tx.x=+1',t:none")).toEqual([
      { name: 'id', value: '1' },
      { name: 'msg', value: 'a, b' },
      { name: 'setvar', value: 'tx.x=+1' },
      { name: 't', value: 'none' },
    ]);
  });
  it('reports unsupported directives, operators and actions with their lines', () => {
    const set = emptyRuleSet();
    parseRules('SecFoo bar\n\nSecRule ARGS "@nope x" \\\n  "id:1,frobnicate"\n', 'x.conf', set);
    expect(set.issues).toEqual([
      { file: 'x.conf', line: 1, message: 'unsupported directive "SecFoo"' },
      { file: 'x.conf', line: 3, message: 'unsupported action "frobnicate"' },
      { file: 'x.conf', line: 3, message: 'unsupported operator "@nope"' },
    ]);
  });
});

const request = (over: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  uri: '/p?q=1',
  protocol: 'HTTP/1.1',
  headers: [['Host', 'x']],
  body: '',
  remoteAddr: '127.0.0.1',
  remotePort: 1,
  serverPort: 80,
  ...over,
});

function run(rules: string, req: HttpRequest) {
  const set = emptyRuleSet();
  parseRules(rules, 't.conf', set);
  expect(set.issues).toEqual([]);
  const engine = compileRuleSet(set, { readData: () => '' });
  const tx = newTransaction(engine, req, 'u1');
  runPhase(tx, 1);
  runPhase(tx, 2);
  return tx;
}

describe('engine', () => {
  it('runs chains, skipAfter/markers, setvar, capture and macros', () => {
    const tx = run(
      [
        'SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=0"',
        'SecRule ARGS:q "@rx (\\d)" "id:2,phase:1,pass,capture,chain,msg:\'q=%{TX.1}\'"',
        '  SecRule TX:1 "@eq 1" "setvar:tx.score=+5"',
        'SecRule ARGS "@rx ." "id:3,phase:1,pass,skipAfter:END"',
        'SecRule ARGS "@rx ." "id:4,phase:1,pass"',
        'SecMarker END',
        'SecRule TX:score "@ge 5" "id:5,phase:2,deny,status:403,msg:\'score %{tx.score}\'"',
      ].join('\n'),
      request(),
    );
    expect(tx.matches.map((m) => m.id)).toEqual([2, 3, 5]);
    expect(tx.matches[0]?.msg).toBe('q=1');
    expect(tx.matches[2]?.msg).toBe('score 5');
    expect(tx.interruption).toEqual({ ruleId: 5, action: 'deny', status: 403 });
  });
  it('parses multipart bodies into ARGS and FILES and flags strict errors', () => {
    const body =
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n' +
      '--b\r\nContent-Disposition: form-data; name="f"; filename="x.php"\r\n' +
      'Content-Type: text/plain\r\n\r\n<?php ?>\r\n--b--\r\n';
    const tx = run(
      'SecRule FILES "@endsWith .php" "id:10,phase:2,pass"\nSecRule ARGS:a "@eq 1" "id:11,phase:2,pass"\nSecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:12,phase:2,pass"',
      request({ headers: [['Content-Type', 'multipart/form-data; boundary=b']], body }),
    );
    expect(tx.matches.map((m) => m.id)).toEqual([10, 11]);
    const broken = run(
      'SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:12,phase:2,pass"\nSecRule REQBODY_ERROR "!@eq 0" "id:13,phase:2,pass"',
      request({
        headers: [['Content-Type', 'multipart/form-data; boundary=b']],
        body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1',
      }),
    );
    expect(broken.matches.map((m) => m.id)).toEqual([12, 13]);
  });
  it('parses JSON and XML bodies and flags broken ones', () => {
    const j = run(
      'SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"\nSecRule ARGS:json.a.0 "@streq x" "id:2,phase:2,pass"\nSecRule REQBODY_ERROR "!@eq 0" "id:3,phase:2,pass"',
      request({ headers: [['Content-Type', 'application/json']], body: '{"a":["x"]}' }),
    );
    expect(j.matches.map((m) => m.id)).toEqual([2]);
    const x = run(
      'SecAction "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"\nSecRule XML:/* "@contains hi" "id:2,phase:2,pass"\nSecRule XML://@* "@streq v" "id:3,phase:2,pass"',
      request({ body: '<a k="v"><b>hi</b></a>' }),
    );
    expect(x.matches.map((m) => m.id)).toEqual([2, 3]);
    const bad = run(
      'SecAction "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"\nSecRule REQBODY_ERROR "!@eq 0" "id:3,phase:2,pass"',
      request({ body: '<a><b></a>' }),
    );
    expect(bad.matches.map((m) => m.id)).toEqual([3]);
  });
  it('resolves XML character references in attributes and text (as UTF-8 bytes)', () => {
    const x = run(
      'SecAction "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"\nSecRule XML://@* "@streq {{7}}" "id:2,phase:2,pass"\nSecRule XML:/* "@rx ^\\xc3\\xa9\\r\\n$" "id:3,phase:2,pass"',
      request({ body: '<a k="&#x7B;&#123;7&#x7D;&#x7d;">&#xe9;&#13;&#10;</a>' }),
    );
    expect(x.matches.map((m) => m.id)).toEqual([2, 3]);
  });
  it('runs setvar once per matched variable, with that variable in MATCHED_VAR_NAME', () => {
    const tx = run(
      'SecRule ARGS_NAMES "@rx ." "id:1,phase:1,pass,nolog,setvar:tx.n_%{MATCHED_VAR_NAME}=+1"\nSecRule TX:/^n_/ "@gt 1" "id:2,phase:1,pass"',
      request({ uri: '/?a=1&a=2&b=3' }),
    );
    expect(tx.tx.get('n_args_names:a')).toBe('2');
    expect(tx.tx.get('n_args_names:b')).toBe('1');
    expect(tx.matches.map((m) => [m.id, m.matchedVarName])).toEqual([[2, 'TX:n_args_names:a']]);
  });
  it('keeps REQUEST_BODY behind the JSON processor, not behind XML', () => {
    const rules = (proc: string) =>
      `SecAction "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=${proc}"\nSecRule REQUEST_BODY "@contains __in" "id:2,phase:2,pass"`;
    expect(run(rules('JSON'), request({ body: '{"a__in":1}' })).matches.map((m) => m.id)).toEqual([
      2,
    ]);
    expect(run(rules('XML'), request({ body: '<a__in/>' })).matches).toEqual([]);
  });
  it('gives REQUEST_FILENAME and REQUEST_BASENAME %-decoded, with + kept', () => {
    const tx = run(
      'SecRule REQUEST_FILENAME "@streq /a b/c+(d)" "id:1,phase:1,pass"\nSecRule REQUEST_BASENAME "@streq c+(d)" "id:2,phase:1,pass"\nSecRule REQUEST_URI "@streq /a%20b/c+%28d%29?x=1" "id:3,phase:1,pass"',
      request({ uri: '/a%20b/c+%28d%29?x=1' }),
    );
    expect(tx.matches.map((m) => m.id)).toEqual([1, 2, 3]);
  });
});
