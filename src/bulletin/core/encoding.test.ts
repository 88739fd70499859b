import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeBytes } from './encoding.js';
import { parseFeed } from './feed.js';

const JA = '「脆弱性」の対策情報を公開、被害額は約3億円';
const feedIn = (enc: string, declare: boolean) =>
  `<?xml version="1.0"${declare ? ` encoding="${enc}"` : ''}?><rss version="2.0"><channel><title>${JA}</title></channel></rss>`;
const bytes = (s: string, enc: string) => new Uint8Array(iconv.encode(s, enc));

/** ISO-2022-JP encoder for the test only (JIS X 0208 via EUC-JP bytes). */
function iso2022jp(s: string): Uint8Array {
  const out: number[] = [];
  let jis = false;
  for (const ch of s) {
    if (ch.charCodeAt(0) < 0x80) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(ch.charCodeAt(0));
    } else {
      if (!jis) out.push(0x1b, 0x24, 0x42);
      jis = true;
      const e = iconv.encode(ch, 'euc-jp');
      out.push(e[0]! & 0x7f, e[1]! & 0x7f);
    }
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Uint8Array.from(out);
}

describe('decodeBytes', () => {
  for (const enc of ['utf-8', 'shift_jis', 'euc-jp']) {
    it(`${enc}: declared in the XML declaration`, () => {
      const d = decodeBytes(bytes(feedIn(enc, true), enc));
      expect(d.encoding).toBe(enc);
      expect(parseFeed(d.text).feed.title).toBe(JA);
    });
    it(`${enc}: undeclared, detected`, () => {
      const d = decodeBytes(bytes(feedIn(enc, false), enc));
      expect(d.encoding).toBe(enc);
      expect(parseFeed(d.text).feed.title).toBe(JA);
    });
    it(`${enc}: from the HTTP charset, overriding a wrong declaration`, () => {
      const d = decodeBytes(
        bytes(feedIn('windows-1252', true), enc),
        `application/rss+xml; charset=${enc}`,
      );
      expect(d.source).toBe('http');
      expect(parseFeed(d.text).feed.title).toBe(JA);
    });
  }
  it('iso-2022-jp, declared and undeclared', () => {
    expect(parseFeed(decodeBytes(iso2022jp(feedIn('iso-2022-jp', true))).text).feed.title).toBe(JA);
    const d = decodeBytes(iso2022jp(feedIn('', false)));
    expect(d.encoding).toBe('iso-2022-jp');
    expect(parseFeed(d.text).feed.title).toBe(JA);
  });
  it('a UTF-8 BOM wins', () => {
    const b = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes(feedIn('shift_jis', true), 'utf-8')]);
    expect(decodeBytes(b).encoding).toBe('utf-8');
    expect(parseFeed(decodeBytes(b).text).feed.title).toBe(JA);
  });
});

describe('parseFeed bad input', () => {
  it('an HTML page is bozo, not a feed', () => {
    const r = parseFeed('<!DOCTYPE html><html><body><p>hi</body></html>');
    expect(r.bozo).toBe(true);
    expect(r.entries).toEqual([]);
  });
  it('a truncated feed is bozo but keeps what it has', () => {
    const r = parseFeed(
      '<rss version="2.0"><channel><title>t</title><item><title>a</title></item><item><title>b',
    );
    expect(r.bozo).toBe(true);
    expect(r.entries.length).toBe(2);
  });
  it('JSON Feed 1.1', () => {
    const r = parseFeed(
      JSON.stringify({
        version: 'https://jsonfeed.org/version/1.1',
        title: 'J',
        home_page_url: 'https://j.example/',
        items: [
          {
            id: '1',
            url: '/a',
            title: 'A',
            content_html: '<p onclick="x">hi</p>',
            date_published: '2024-03-01T00:00:00Z',
          },
        ],
      }),
    );
    expect(r.version).toBe('json11');
    expect(r.entries[0]!.link).toBe('https://j.example/a');
    expect((r.entries[0]!.content as { value: string }[])[0]!.value).toBe('<p>hi</p>');
    expect(r.entries[0]!.published_parsed).toEqual([2024, 3, 1, 0, 0, 0, 4, 61, 0]);
  });
  it('an entity bomb is capped', () => {
    let dtd = '<!ENTITY a0 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx">';
    for (let i = 1; i < 30; i++)
      dtd += `<!ENTITY a${i} "&a${i - 1};&a${i - 1};&a${i - 1};&a${i - 1};">`;
    const r = parseFeed(
      `<!DOCTYPE rss [${dtd}]><rss><channel><title>&a29;</title></channel></rss>`,
    );
    expect(r.bozo).toBe(true);
    expect(String(r.feed.title ?? '').length).toBeLessThan(2_000_000);
  });
});
