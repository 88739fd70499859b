import { describe, expect, it } from 'vitest';
import {
  FeedIndexError,
  feedFileLocations,
  jstYear,
  parseChecksumTxt,
  planFeedSync,
} from './jvn-feed.js';

const sha = (c: string) => c.repeat(64);
const entry = (filename: string, path: string, digest: string) => ({
  url: `https://jvndb.jvn.jp/ja/${path}${filename}`,
  filename,
  sha256: digest,
  size: 1000,
  lastModified: '2026/11/20 09:00:11',
});
// The shape of https://jvndb.jvn.jp/ja/feed/checksum.txt: a JSON list, newest feeds first,
// with the detail, vendor and product files beside the overviews.
const INDEX = JSON.stringify([
  entry('jvndb_new.rdf', 'rss/', sha('1')),
  entry('jvndb.rdf', 'rss/', sha('2')),
  entry('jvndb_2026.rdf', 'rss/years/', sha('3')),
  entry('jvndb_2025.rdf', 'rss/years/', sha('4')),
  entry('jvndb_1998.rdf', 'rss/years/', sha('5')),
  entry('jvndb_detail_2026.rdf', 'feed/detail/', sha('6')),
  entry('myjvn_vendor_202611.rdf', 'feed/vendor/', sha('7')),
  { filename: 'something_new.txt' },
]);

describe('checksum.txt', () => {
  it('reads every well-formed entry and skips unknown incomplete ones', () => {
    const files = parseChecksumTxt(INDEX);
    expect(files.map((f) => f.filename)).toEqual([
      'jvndb_new.rdf',
      'jvndb.rdf',
      'jvndb_2026.rdf',
      'jvndb_2025.rdf',
      'jvndb_1998.rdf',
      'jvndb_detail_2026.rdf',
      'myjvn_vendor_202611.rdf',
    ]);
    expect(files[2]).toEqual({
      url: 'https://jvndb.jvn.jp/ja/rss/years/jvndb_2026.rdf',
      filename: 'jvndb_2026.rdf',
      sha256: sha('3'),
      size: 1000,
      lastModified: '2026/11/20 09:00:11',
    });
  });

  it('refuses what is not the index, or a feed entry that cannot be checked', () => {
    for (const bad of [
      '<html>maintenance</html>',
      '{"url": "x"}',
      JSON.stringify([{ ...entry('jvndb_2020.rdf', 'rss/years/', 'abc') }]),
      JSON.stringify([{ ...entry('jvndb_2020.rdf', 'rss/years/', sha('a')), url: undefined }]),
      JSON.stringify([
        entry('jvndb_2020.rdf', 'x/', sha('a')),
        entry('jvndb_2020.rdf', 'y/', sha('b')),
      ]),
    ])
      expect(() => parseChecksumTxt(bad), bad).toThrow(FeedIndexError);
    // A name with directory parts is never a feed file, so a mirror lookup cannot leave the mirror.
    expect(
      parseChecksumTxt(JSON.stringify([entry('../jvndb_2020.rdf', 'rss/', sha('a'))])),
    ).toEqual([]);
  });
});

describe('which feed files to fetch', () => {
  const files = parseChecksumTxt(INDEX);

  it('first run: every overview year up to this JST year, then the recent feeds', () => {
    const plan = planFeedSync(files, new Map(), { kind: 'overview', thisYear: 2025 });
    expect(plan.fetch.map((f) => f.filename)).toEqual([
      'jvndb_1998.rdf',
      'jvndb_2025.rdf',
      'jvndb.rdf',
      'jvndb_new.rdf',
    ]);
    expect(plan.ignored).toEqual([
      'jvndb_2026.rdf',
      'jvndb_detail_2026.rdf',
      'myjvn_vendor_202611.rdf',
    ]);
  });

  it('later runs: only the files whose sha256 changed', () => {
    const stored = new Map([
      ['jvndb_1998.rdf', sha('5')],
      ['jvndb_2025.rdf', sha('0')],
      ['jvndb_2026.rdf', sha('3').toUpperCase()],
      ['jvndb.rdf', sha('2')],
      ['jvndb_new.rdf', sha('1')],
    ]);
    const plan = planFeedSync(files, stored, { kind: 'overview', thisYear: 2026 });
    expect(plan.fetch.map((f) => f.filename)).toEqual(['jvndb_2025.rdf']);
    expect(plan.unchanged.map((f) => f.filename)).toEqual([
      'jvndb_1998.rdf',
      'jvndb_2026.rdf',
      'jvndb.rdf',
      'jvndb_new.rdf',
    ]);
  });

  it('detail feeds, and chosen years', () => {
    expect(
      planFeedSync(files, new Map(), { kind: 'detail', thisYear: 2026 }).fetch.map(
        (f) => f.filename,
      ),
    ).toEqual(['jvndb_detail_2026.rdf']);
    expect(
      planFeedSync(files, new Map(), { kind: 'overview', thisYear: 2026, years: [2025] }).fetch.map(
        (f) => f.filename,
      ),
    ).toEqual(['jvndb_2025.rdf']);
  });

  it('the year turns at midnight JST', () => {
    expect(jstYear(Date.parse('2025-12-31T14:59:59Z'))).toBe(2025);
    expect(jstYear(Date.parse('2025-12-31T15:00:00Z'))).toBe(2026);
  });
});

describe('where a mirror keeps a feed file', () => {
  const [file] = parseChecksumTxt(
    JSON.stringify([entry('jvndb_2025.rdf', 'rss/years/', sha('4'))]),
  );
  it('the official site: the listed url', () => {
    expect(feedFileLocations(file!, 'https://jvndb.jvn.jp/ja/feed/checksum.txt')).toEqual([
      'https://jvndb.jvn.jp/ja/rss/years/jvndb_2025.rdf',
    ]);
  });
  it("a mirror of the site's layout, then beside checksum.txt", () => {
    expect(feedFileLocations(file!, 'http://127.0.0.1:8080/jvn/ja/feed/checksum.txt')).toEqual([
      'http://127.0.0.1:8080/jvn/ja/rss/years/jvndb_2025.rdf',
      'http://127.0.0.1:8080/jvn/ja/feed/jvndb_2025.rdf',
    ]);
    expect(feedFileLocations(file!, 'file:///srv/mirror/ja/feed/checksum.txt')).toEqual([
      'file:///srv/mirror/ja/rss/years/jvndb_2025.rdf',
      'file:///srv/mirror/ja/feed/jvndb_2025.rdf',
    ]);
  });
  it('a flat mirror: beside checksum.txt', () => {
    expect(feedFileLocations(file!, 'file:///srv/jvn/checksum.txt')).toEqual([
      'file:///srv/jvn/jvndb_2025.rdf',
    ]);
  });
  it('a mirror that rewrote the urls to itself, or made them relative', () => {
    const self = { ...file!, url: 'http://mirror.example/feeds/jvndb_2025.rdf' };
    expect(feedFileLocations(self, 'http://mirror.example/index/checksum.txt')).toEqual([
      'http://mirror.example/feeds/jvndb_2025.rdf',
    ]);
    const rel = { ...file!, url: 'years/jvndb_2025.rdf' };
    expect(feedFileLocations(rel, 'file:///srv/jvn/checksum.txt')).toEqual([
      'file:///srv/jvn/years/jvndb_2025.rdf',
      'file:///srv/jvn/jvndb_2025.rdf',
    ]);
  });
});
