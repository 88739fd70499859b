/**
 * A bulletin issue and its renderings: Markdown (the editor's format, parsed back after
 * `edit`), one self-contained sanitized HTML file, and the bulletin's own RSS 2.0 and Atom
 * feeds. Everything that came from a feed is escaped or sanitized here; excerpts are quoted
 * and attributed. Pure: no I/O, times come in as ISO strings.
 */
import { sanitizeHtml, unsafeReasons } from './sanitize.js';
import { escapeXml } from './xml.js';

export const STANDING_HEADER = {
  en: 'Most incidents below are countered by the same two habits: keep operating systems, applications and antivirus signatures up to date, and defend the whole network, not just each host.',
  ja: 'ここに挙げる被害の多くは、OS・アプリケーション・ウイルス対策ソフトの定義ファイルを最新に保つことと、ネットワーク全体での防御によって防げます。',
};

export interface IssueSource {
  url: string;
  outlet: string;
}

export interface IssueExcerpt {
  outlet: string;
  url: string;
  text: string;
}

/** One package of the reader's inventory that the last `vuln check` found affected. */
export interface InventoryHit {
  /** The vulnerability id as the story names it (else the store's primary id). */
  id: string;
  package: string;
  version: string;
  ecosystem: string;
  /** Versions to update to; empty = no fix yet. */
  fixed: string[];
}

export interface IssueItem {
  storyId: number;
  title: string;
  sources: IssueSource[];
  summary: string[];
  tags: string[];
  ids: string[];
  /** The editor's commentary (Markdown-lite: paragraphs and links); empty in a draft. */
  commentary: string;
  excerpts: IssueExcerpt[];
  importance: number;
  lang: string;
  /** Severity per id from the local vuln store (cross-area link; absent when unknown). */
  severity?: Record<string, string>;
  /** Packages the last `vuln check` found affected by this story's ids (cross-area link). */
  inventory?: InventoryHit[];
  /** The reader's own figures for an IoT story (honeypot, exposure): one line per area, '\n'-separated. */
  context?: string;
}

export interface Issue {
  id: number;
  createdAt: string;
  since: string;
  status: 'draft' | 'published';
  header: string;
  items: IssueItem[];
  publishedAt: string | null;
}

/** The public `draft --json` shape. */
export function issueJson(issue: Issue): {
  id: number;
  items: {
    title: string;
    sources: IssueSource[];
    summary: string[];
    tags: string[];
    ids: string[];
    /** Present only when the last `vuln check` found the story's ids in the reader's inventory. */
    inventory?: InventoryHit[];
  }[];
} {
  return {
    id: issue.id,
    items: issue.items.map((i) => ({
      title: i.title,
      sources: i.sources,
      summary: i.summary,
      tags: i.tags,
      ids: i.ids,
      ...(i.inventory?.length ? { inventory: i.inventory } : {}),
    })),
  };
}

/**
 * The "affects your inventory" line, or undefined when nothing is affected.
 * @example inventoryLine({ inventory: [{ id: 'CVE-1', package: 'pkg', version: '1.2.3', ecosystem: 'PyPI', fixed: ['1.2.4'] }] }) // 'affects your inventory: pkg 1.2.3 → fix 1.2.4 (CVE-1)'
 */
export function inventoryLine(item: Pick<IssueItem, 'inventory'>): string | undefined {
  if (!item.inventory?.length) return undefined;
  return `affects your inventory: ${item.inventory
    .map(
      (h) =>
        `${h.package} ${h.version} → ${h.fixed.length ? `fix ${h.fixed.join(' or ')}` : 'no fix yet'} (${h.id})`,
    )
    .join('; ')}`;
}

const contextLines = (item: IssueItem) =>
  (item.context ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const mdText = (s: string) => oneLine(s).replace(/([\\`*_[\]<>])/g, '\\$1');
const mdUrl = (u: string) => u.replace(/[()\s<>]/g, (c) => encodeURIComponent(c));
const unMd = (s: string) => s.replace(/\\([\\`*_[\]<>])/g, '$1');

/**
 * The issue as Markdown. Story blocks carry `<!-- story:N -->` so edits map back.
 * @example renderMarkdown(issue).startsWith('# ')
 */
export function renderMarkdown(issue: Issue): string {
  const out: string[] = [];
  out.push(`# Security bulletin #${issue.id} (${issue.createdAt.slice(0, 10)})`, '');
  out.push(...issue.header.split('\n').map((l) => `> ${l}`), '');
  issue.items.forEach((item, n) => {
    out.push(`<!-- story:${item.storyId} -->`);
    out.push(`## ${n + 1}. ${mdText(item.title)}`, '');
    out.push(
      `Sources: ${item.sources.map((s) => `[${mdText(s.outlet)}](${mdUrl(s.url)})`).join(' · ')}`,
    );
    const meta = [
      item.tags.length ? `Tags: ${item.tags.join(', ')}` : '',
      item.ids.length ? `IDs: ${item.ids.map((i) => idWithSeverity(item, i)).join(', ')}` : '',
    ].filter(Boolean);
    if (meta.length) out.push(meta.join(' · '));
    const inv = inventoryLine(item);
    if (inv) out.push('', `**${mdText(inv)}**`);
    for (const line of contextLines(item)) out.push('', `> ${mdText(line)}`);
    out.push('', '### In a nutshell', '');
    for (const b of item.summary) out.push(`- ${mdText(b)}`);
    out.push('', '### Commentary', '');
    out.push(item.commentary.trim() || '<!-- the editor writes here -->');
    out.push('', '### Excerpts', '');
    for (const e of item.excerpts)
      out.push(`> ${mdText(e.text)} — [${mdText(e.outlet)}](${mdUrl(e.url)})`, '');
    out.push('');
  });
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/**
 * Parse edited Markdown back onto an issue: the header, each story's title, bullets and
 * commentary; stories deleted by the editor are dropped, reordering is kept. Sources and
 * excerpts stay as fetched (they are quotes, not the editor's words).
 */
export function parseMarkdown(md: string, original: Issue): Issue {
  const byId = new Map(original.items.map((i) => [i.storyId, i]));
  const blocks = md.split(/^<!-- story:(\d+) -->\s*$/m);
  const head = blocks[0] ?? '';
  const header = head
    .split('\n')
    .filter((l) => l.startsWith('>'))
    .map((l) => l.replace(/^>\s?/, ''))
    .join('\n')
    .trim();
  const items: IssueItem[] = [];
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const id = Number(blocks[i]);
    const base = byId.get(id);
    if (!base) throw new Error(`story ${id} is not in issue ${original.id}`);
    const body = blocks[i + 1]!;
    const title = /^##\s+(?:\d+\.\s+)?(.*)$/m.exec(body)?.[1]?.trim();
    const section = (name: string) => {
      const m = new RegExp(`^###\\s+${name}\\s*$([\\s\\S]*?)(?=^###\\s|$(?![\\s\\S]))`, 'm').exec(
        body,
      );
      return m?.[1] ?? '';
    };
    const bullets = section('In a nutshell')
      .split('\n')
      .filter((l) => /^\s*[-*]\s+/.test(l))
      .map((l) => unMd(l.replace(/^\s*[-*]\s+/, '').trim()));
    const commentary = section('Commentary')
      .replace(/<!--[\s\S]*?-->/g, '')
      .trim();
    items.push({ ...base, title: title ? unMd(title) : base.title, summary: bullets, commentary });
  }
  return { ...original, header: header || original.header, items };
}

const esc = (s: string) => escapeXml(s).replace(/"/g, '&quot;');

function idWithSeverity(item: IssueItem, id: string): string {
  const sev = item.severity?.[id];
  return sev ? `${id} (${sev})` : id;
}

/** Markdown-lite commentary → HTML: paragraphs, `[text](url)` links, **bold**; all else escaped. */
function commentaryHtml(md: string): string {
  return md
    .trim()
    .split(/\n\s*\n/)
    .filter(Boolean)
    .map((p) => {
      let h = esc(p.trim());
      h = h.replace(
        /\[([^\]]+)\]\(([^)\s]+)\)/g,
        (_m, t: string, u: string) => `<a href="${u}">${t}</a>`,
      );
      h = h.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
      return `<p>${h.replace(/\n/g, '<br>')}</p>`;
    })
    .join('\n');
}

function bodyHtml(issue: Issue): string {
  const parts: string[] = [];
  parts.push(`<h1>Security bulletin #${issue.id} (${esc(issue.createdAt.slice(0, 10))})</h1>`);
  parts.push(`<blockquote class="header"><p>${esc(issue.header)}</p></blockquote>`);
  issue.items.forEach((item, n) => {
    parts.push(`<section class="story" lang="${esc(item.lang)}">`);
    parts.push(`<h2>${n + 1}. ${esc(item.title)}</h2>`);
    parts.push(
      `<p class="sources">${item.sources.map((s) => `<a href="${esc(s.url)}">${esc(s.outlet)}</a>`).join(' · ')}</p>`,
    );
    if (item.tags.length || item.ids.length)
      parts.push(
        `<p class="meta">${[...item.tags.map((t) => `<span class="tag">${esc(t)}</span>`), ...item.ids.map((i) => `<code>${esc(idWithSeverity(item, i))}</code>`)].join(' ')}</p>`,
      );
    const inv = inventoryLine(item);
    if (inv) parts.push(`<p class="inventory"><strong>${esc(inv)}</strong></p>`);
    for (const line of contextLines(item)) parts.push(`<p class="context">${esc(line)}</p>`);
    parts.push(
      `<h3>In a nutshell</h3><ul>${item.summary.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>`,
    );
    if (item.commentary.trim()) parts.push(`<h3>Commentary</h3>${commentaryHtml(item.commentary)}`);
    if (item.excerpts.length)
      parts.push(
        `<h3>Excerpts</h3>${item.excerpts.map((e) => `<blockquote><p>${esc(e.text)}</p><p class="cite">— <a href="${esc(e.url)}">${esc(e.outlet)}</a></p></blockquote>`).join('')}`,
      );
    parts.push('</section>');
  });
  return sanitizeHtml(parts.join('\n'));
}

const CSS = `body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-top:1px solid #ddd;padding-top:1rem}
h3{font-size:1rem;margin-bottom:.2rem}blockquote{margin:.6rem 0;padding:.2rem .9rem;border-left:4px solid #ccd;color:#444}
.header{background:#f5f7fa}.sources a{margin-right:.3rem}.tag{background:#eef;border-radius:3px;padding:0 .3rem;margin-right:.3rem;font-size:.85rem}
.cite{font-size:.85rem}code{font-size:.85rem}`;

/**
 * One self-contained HTML file: inline CSS, no scripts, no external resources.
 * Throws when the sanitized body would still be unsafe (a last line of defence).
 */
export function renderHtml(issue: Issue): string {
  const body = bodyHtml(issue);
  const problems = unsafeReasons(body);
  if (problems.length) throw new Error(`refusing to publish unsafe HTML: ${problems.join(', ')}`);
  const lang = issue.items[0]?.lang ?? 'en';
  return `<!DOCTYPE html>\n<html lang="${esc(lang)}">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src https: data:">\n<title>Security bulletin #${issue.id}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

export interface FeedMeta {
  title: string;
  /** Where the published files live (absolute URL or file: URL). */
  baseUrl: string;
  updated: string;
}

const cdata = (s: string) => `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/** The bulletin's own RSS 2.0 feed: one item per published issue, newest first. */
export function renderRss(issues: Issue[], meta: FeedMeta): string {
  const items = issues
    .map((i) => {
      const link = `${meta.baseUrl.replace(/\/$/, '')}/issue-${i.id}.html`;
      return `    <item>\n      <title>${esc(`Security bulletin #${i.id}`)}</title>\n      <link>${esc(link)}</link>\n      <guid isPermaLink="true">${esc(link)}</guid>\n      <pubDate>${new Date(i.publishedAt ?? i.createdAt).toUTCString()}</pubDate>\n      <description>${cdata(bodyHtml(i))}</description>\n    </item>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n  <channel>\n    <title>${esc(meta.title)}</title>\n    <link>${esc(meta.baseUrl)}</link>\n    <description>${esc(meta.title)}</description>\n    <lastBuildDate>${new Date(meta.updated).toUTCString()}</lastBuildDate>\n${items}\n  </channel>\n</rss>\n`;
}

/** The bulletin's own Atom 1.0 feed. */
export function renderAtom(issues: Issue[], meta: FeedMeta): string {
  const base = meta.baseUrl.replace(/\/$/, '');
  const entries = issues
    .map((i) => {
      const link = `${base}/issue-${i.id}.html`;
      return `  <entry>\n    <title>${esc(`Security bulletin #${i.id}`)}</title>\n    <id>${esc(link)}</id>\n    <link rel="alternate" type="text/html" href="${esc(link)}"/>\n    <updated>${esc(i.publishedAt ?? i.createdAt)}</updated>\n    <content type="html">${esc(bodyHtml(i))}</content>\n  </entry>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n  <title>${esc(meta.title)}</title>\n  <id>${esc(`${base}/atom.xml`)}</id>\n  <link rel="self" href="${esc(`${base}/atom.xml`)}"/>\n  <updated>${esc(meta.updated)}</updated>\n  <author><name>mamori bulletin</name></author>\n${entries}\n</feed>\n`;
}
