import { describe, expect, it } from 'vitest';
import { parseFeed } from './feed.js';
import {
  type Issue,
  parseMarkdown,
  renderAtom,
  renderHtml,
  renderMarkdown,
  renderRss,
} from './render.js';
import { unsafeReasons } from './sanitize.js';

const issue: Issue = {
  id: 7,
  createdAt: '2026-11-17T00:00:00.000Z',
  since: '2026-11-10T00:00:00.000Z',
  status: 'draft',
  header: 'Keep everything patched.',
  publishedAt: null,
  items: [
    {
      storyId: 3,
      title: 'Evil <script>alert(1)</script> [title] *x*',
      sources: [
        { url: 'https://a.example/1', outlet: 'A <b>' },
        { url: 'javascript:alert(1)', outlet: 'B' },
      ],
      summary: ['約482億円が流出', 'Second <img src=x onerror=alert(1)>', 'Third'],
      tags: ['crypto'],
      ids: ['CVE-2024-3400'],
      commentary: '',
      excerpts: [
        { outlet: 'A', url: 'https://a.example/1', text: 'Quoted <iframe src=x></iframe> text' },
      ],
      importance: 300,
      lang: 'ja',
    },
    {
      storyId: 5,
      title: 'Second story',
      sources: [{ url: 'https://b.example/2', outlet: 'B' }],
      summary: ['a', 'b', 'c'],
      tags: [],
      ids: [],
      commentary: '',
      excerpts: [],
      importance: 100,
      lang: 'en',
    },
  ],
};

describe('render', () => {
  it('Markdown round-trips through an edit: commentary, bullets, deletion, reordering', () => {
    const md = renderMarkdown(issue);
    expect(md).toContain('<!-- story:3 -->');
    expect(parseMarkdown(md, issue).items.map((i) => i.summary)).toEqual(
      issue.items.map((i) => i.summary),
    );
    expect(parseMarkdown(md, issue).items[0]!.title).toBe(issue.items[0]!.title);
    const edited = md
      .replace(
        '<!-- the editor writes here -->',
        'Patch now. See [JPCERT](https://www.jpcert.or.jp/).',
      )
      .replace('- Third', '- Third, shortened');
    const back = parseMarkdown(edited, issue);
    expect(back.items[0]!.commentary).toBe('Patch now. See [JPCERT](https://www.jpcert.or.jp/).');
    expect(back.items[0]!.summary[2]).toBe('Third, shortened');
    // Delete the first story and keep the second.
    const onlySecond =
      md.slice(0, md.indexOf('<!-- story:3 -->')) + md.slice(md.indexOf('<!-- story:5 -->'));
    expect(parseMarkdown(onlySecond, issue).items.map((i) => i.storyId)).toEqual([5]);
    expect(() => parseMarkdown('<!-- story:99 -->\n## x', issue)).toThrow(/story 99/);
  });

  it('HTML is one self-contained safe file; hostile text is escaped, bad links blanked', () => {
    const withCommentary = {
      ...issue,
      items: [
        {
          ...issue.items[0]!,
          commentary: 'Read [this](javascript:alert(1)) and [that](https://ok.example/).',
        },
        issue.items[1]!,
      ],
    };
    const html = renderHtml(withCommentary);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<iframe|<img|href="javascript:/i);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('href="https://ok.example/"');
    expect(html).not.toMatch(/<link |src="http/);
    const body = html.slice(html.indexOf('<body>'), html.indexOf('</body>'));
    expect(unsafeReasons(body)).toEqual([]);
  });

  it('the bulletin feeds parse with our own feed parser', () => {
    const meta = {
      title: 'Bulletin',
      baseUrl: 'https://news.example.org/',
      updated: '2026-11-17T00:00:00.000Z',
    };
    const pub = { ...issue, status: 'published' as const, publishedAt: '2026-11-17T00:00:00.000Z' };
    const rss = parseFeed(renderRss([pub], meta));
    expect(rss.version).toBe('rss20');
    expect(rss.bozo).toBe(false);
    expect(rss.entries[0]!.link).toBe('https://news.example.org/issue-7.html');
    const atom = parseFeed(renderAtom([pub], meta));
    expect(atom.version).toBe('atom10');
    expect(atom.bozo).toBe(false);
    expect(
      String(
        atom.entries[0]!.summary ?? (atom.entries[0]!.content as { value: string }[])[0]!.value,
      ),
    ).toContain('482');
  });
});
