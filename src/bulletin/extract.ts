/**
 * Full article text from a web page: Mozilla Readability over linkedom, with per-site rules for
 * pages where Readability fails (Japanese news sites whose body sits in a known container, or
 * pages too short for Readability's thresholds). The result is sanitized HTML plus plain text.
 * Not a fetcher (see feeds.ts) and no JavaScript is ever run.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { sanitizeHtml } from './core/sanitize.js';
import { stripBoilerplate } from './core/text.js';

export interface Extracted {
  title: string;
  /** Sanitized HTML of the article body. */
  html: string;
  /** Plain text, paragraphs separated by blank lines. */
  text: string;
  /** `<link rel=canonical>` or og:url, made absolute. */
  canonicalUrl: string | undefined;
  lang: string | undefined;
  byline: string | undefined;
  publishedTime: string | undefined;
  /** Which path produced it: readability, site-rule, or fallback. */
  method: 'readability' | 'site-rule' | 'fallback';
}

/** CSS selectors of the article body on sites where Readability picks the wrong block. */
export const SITE_RULES: { host: RegExp; selector: string }[] = [
  {
    host: /(^|\.)nikkei\.com$/,
    selector: '.container_campaign_article, article .cmn-article_text',
  },
  { host: /(^|\.)itmedia\.co\.jp$/, selector: '#cmsBody .inner' },
  { host: /(^|\.)impress\.co\.jp$/, selector: '.main-contents.mainContents' },
  { host: /(^|\.)security-next\.com$/, selector: '.content' },
  { host: /(^|\.)jpcert\.or\.jp$/, selector: '#main .inner, .contents' },
  { host: /(^|\.)ipa\.go\.jp$/, selector: '#ipar_main, main' },
  { host: /(^|\.)nhk\.or\.jp$/, selector: '.content--detail-body, .module--content' },
  { host: /(^|\.)asahi\.com$/, selector: '.nfyQp, #Main .ArticleText' },
  { host: /(^|\.)yomiuri\.co\.jp$/, selector: '.p-main-contents' },
  { host: /(^|\.)mainichi\.jp$/, selector: '#articledetail-body' },
];

type Doc = ReturnType<typeof parseHTML>['document'];

function metaContent(doc: Doc, selector: string): string | undefined {
  const el = doc.querySelector(selector) as unknown as {
    getAttribute(n: string): string | null;
  } | null;
  return el?.getAttribute('content') ?? el?.getAttribute('href') ?? undefined;
}

/** Plain text of sanitized HTML, with blank lines between blocks. */
export function htmlToText(html: string): string {
  const { document } = parseHTML(
    `<!DOCTYPE html><html><body>${html
      .replace(
        /<\/(p|div|h[1-6]|li|blockquote|pre|tr|section|article|header|footer)>/gi,
        '</$1>\n\n',
      )
      .replace(/<br\s*\/?>/gi, '\n')}</body></html>`,
  );
  return (document.body?.textContent ?? '')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const META_CLASS =
  /(?:^|[\s_-])(?:byline|author|authors|dateline|timestamp|pubdate|published|posted-on|entry-date|article-date|post-date|date|time)(?:$|[\s_-])/i;

/**
 * The article's own HTML without what surrounds its prose: `<time>` stamps and byline/date
 * blocks (by class, id, itemprop or rel) whose text is short. A `<time>` inside a running
 * sentence ("on <time>December 2</time>, the firm…") stays.
 */
function dropMeta(html: string): string {
  const { document } = parseHTML(`<!DOCTYPE html><html><body>${html}</body></html>`);
  type El = {
    tagName: string;
    textContent: string | null;
    getAttribute(n: string): string | null;
    remove(): void;
    parentElement: El | null;
    previousSibling: { textContent: string | null } | null;
  };
  const all = Array.from(document.querySelectorAll('*') as unknown as ArrayLike<El>);
  for (const el of all) {
    const text = (el.textContent ?? '').trim();
    const marks = ['class', 'id', 'itemprop', 'rel'].map((a) => el.getAttribute(a) ?? '').join(' ');
    if (el.tagName === 'TIME') {
      const before = (el.previousSibling?.textContent ?? '').trim();
      const parentText = (el.parentElement?.textContent ?? '').trim();
      // A stamp stands first in its block or alone; a date in a sentence has words before it.
      if (!before || parentText === text || /\d:\d\d|T\d/.test(text)) el.remove();
      continue;
    }
    if (META_CLASS.test(marks) && text.length < 120 && !/[。.!?]\s*\S/.test(text)) el.remove();
  }
  return document.body?.innerHTML ?? html;
}

/** Plain article text: block breaks kept, stamps, bylines and datelines left out. */
function articleText(clean: string): string {
  return stripBoilerplate(htmlToText(clean));
}

/**
 * Extract the article from a page.
 * @example const a = extractArticle(html, 'https://example.com/news/1'); a.text
 */
export function extractArticle(html: string, url: string): Extracted {
  const { document } = parseHTML(html);
  const doc = document as Doc;
  const canonicalRaw =
    metaContent(doc, 'link[rel="canonical"]') ?? metaContent(doc, 'meta[property="og:url"]');
  let canonicalUrl: string | undefined;
  if (canonicalRaw) {
    try {
      const u = new URL(canonicalRaw, url);
      if (u.protocol === 'http:' || u.protocol === 'https:') canonicalUrl = u.toString();
    } catch {
      canonicalUrl = undefined;
    }
  }
  const lang =
    (
      doc.documentElement as unknown as { getAttribute(n: string): string | null } | null
    )?.getAttribute('lang') ?? undefined;
  const publishedTime = metaContent(doc, 'meta[property="article:published_time"]');
  const host = (() => {
    try {
      return new URL(url).hostname;
    } catch {
      return '';
    }
  })();
  const rule = SITE_RULES.find((r) => r.host.test(host));
  if (rule) {
    const el = doc.querySelector(rule.selector) as unknown as { innerHTML: string } | null;
    if (el) {
      const clean = sanitizeHtml(dropMeta(el.innerHTML), url);
      const text = articleText(clean);
      if ([...text].length > 40) {
        return {
          title: (doc.querySelector('title')?.textContent ?? '').trim(),
          html: clean,
          text,
          canonicalUrl,
          lang: lang || undefined,
          byline: undefined,
          publishedTime,
          method: 'site-rule',
        };
      }
    }
  }
  // Readability mutates the document; it gets its own parse.
  const fresh = parseHTML(html).document;
  let article: ReturnType<Readability['parse']> = null;
  try {
    article = new Readability(fresh as unknown as Document, { charThreshold: 200 }).parse();
  } catch {
    article = null;
  }
  if (article?.content) {
    const clean = sanitizeHtml(dropMeta(article.content), url);
    return {
      title: (article.title ?? '').trim(),
      html: clean,
      text: articleText(clean),
      canonicalUrl,
      lang: article.lang || lang || undefined,
      byline: article.byline ?? undefined,
      publishedTime: article.publishedTime ?? publishedTime,
      method: 'readability',
    };
  }
  // Fallback: the paragraphs of the page (short pages Readability refuses).
  const paras = Array.from(doc.querySelectorAll('p') as unknown as ArrayLike<{ outerHTML: string }>)
    .map((p) => p.outerHTML)
    .join('');
  const clean = sanitizeHtml(dropMeta(paras || (doc.body?.innerHTML ?? '')), url);
  return {
    title: (doc.querySelector('title')?.textContent ?? '').trim(),
    html: clean,
    text: articleText(clean),
    canonicalUrl,
    lang: lang || undefined,
    byline: undefined,
    publishedTime,
    method: 'fallback',
  };
}
