import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeUrl, sanitizeHtml, sanitizeStyle, unsafeReasons } from './sanitize.js';

const HOSTILE = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="java\tscript:alert(1)">x</a>',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href=" javascript:alert(1)">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<div style="width: expression(alert(1))">x</div>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<div style="-moz-binding:url(http://x/x.xml#x)">x</div>',
  '<iframe src="http://evil/"></iframe>',
  '<object data="x.swf"></object><embed src="x.swf">',
  '<svg onload=alert(1)><script>alert(1)</script></svg>',
  '<math><a xlink:href="javascript:alert(1)">x</a></math>',
  '<body onload=alert(1)>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<form action="javascript:alert(1)"><input type=submit></form>',
  '<p <script>alert(1)</script>>',
  '<<script>script>alert(1)//<</script>/script>',
  '<img src="x" style="x:expr/**/ession(alert(1))">',
  '<style>@import "javascript:alert(1)";</style>',
  '<link rel=stylesheet href="javascript:alert(1)">',
  '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">x</a>',
  '<isindex type=image src=1 onerror=alert(1)>',
  '<video poster=javascript:alert(1)//></video>',
  '<table background="javascript:alert(1)"></table>',
  '<button formaction="javascript:alert(1)">x</button>',
];

describe('sanitizeHtml', () => {
  for (const h of HOSTILE) {
    it(`neutralises ${h.slice(0, 50)}`, () => {
      const out = sanitizeHtml(h, 'http://example.com/');
      expect(unsafeReasons(out)).toEqual([]);
      expect(out.toLowerCase()).not.toContain('<script');
    });
  }

  it('keeps links, text and allowed markup', () => {
    expect(
      sanitizeHtml(
        '<p class="a" onclick="x()">Hi <a href="/p">there</a><br></p>',
        'http://e.com/x/',
      ),
    ).toBe('<p class="a">Hi <a href="http://e.com/p">there</a><br /></p>');
  });

  it('drops script content but keeps text of unknown elements', () => {
    expect(sanitizeHtml('<blink>hi</blink><script>bad()</script>')).toBe('hi');
  });

  it('property: any string of tags and attributes sanitizes to safe HTML', () => {
    const tag = fc.constantFrom(
      'a',
      'img',
      'script',
      'div',
      'svg',
      'iframe',
      'style',
      'p',
      'object',
    );
    const attr = fc.constantFrom(
      'href',
      'src',
      'onclick',
      'style',
      'onerror',
      'formaction',
      'background',
    );
    const value = fc.constantFrom(
      'javascript:alert(1)',
      ' JAVASCRIPT:x',
      'expression(x)',
      'http://ok/',
      'url(javascript:x)',
      'data:text/html,x',
      'vbscript:x',
    );
    const el = fc
      .tuple(tag, attr, value, fc.string({ maxLength: 10 }))
      .map(([t, a, v, s]) => `<${t} ${a}="${v}">${s}</${t}>`);
    fc.assert(
      fc.property(fc.array(el, { maxLength: 5 }), (parts) => {
        expect(unsafeReasons(sanitizeHtml(parts.join(''), 'http://e.com/'))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sanitizeStyle and safeUrl', () => {
  it('keeps plain properties and drops dangerous ones', () => {
    expect(sanitizeStyle('color: red; width: 10px')).toBe('color: red; width: 10px;');
    expect(sanitizeStyle('width: expression(alert(1))')).toBe('');
    expect(sanitizeStyle('background: url(http://x)')).toBe('');
  });
  it('resolves relative URLs and blanks unsafe schemes', () => {
    expect(safeUrl('a/b', 'http://e.com/x/')).toBe('http://e.com/x/a/b');
    expect(safeUrl('javascript:alert(1)', 'http://e.com/')).toBe('');
    expect(safeUrl(' java\nscript:alert(1)')).toBe('');
    expect(safeUrl('mailto:a@b.c')).toBe('mailto:a@b.c');
  });
});
