/**
 * OPML 1.0/2.0 subscription lists: read the feed outlines (nested folders flattened) and write
 * our sources back out. Not an outliner.
 */
import { escapeXml, parseXml, type XmlElement } from './xml.js';

export interface OpmlFeed {
  url: string;
  name: string;
  lang?: string;
  siteUrl?: string;
}

/** @example parseOpml('<opml><body><outline xmlUrl="https://x/feed" text="X"/></body></opml>') */
export function parseOpml(text: string): OpmlFeed[] {
  const doc = parseXml(text);
  if (doc.root?.local.toLowerCase() !== 'opml') throw new Error('not an OPML document');
  const out: OpmlFeed[] = [];
  const walk = (el: XmlElement) => {
    for (const c of el.children) {
      if (c.kind !== 'element') continue;
      if (c.local.toLowerCase() === 'outline') {
        const url = c.attrs.xmlUrl ?? c.attrs.xmlurl ?? c.attrs.url;
        if (url && /^(https?|file):/i.test(url.trim())) {
          const f: OpmlFeed = {
            url: url.trim(),
            name: (c.attrs.title ?? c.attrs.text ?? url).trim(),
          };
          const lang = c.attrs.language ?? c.attrs.lang;
          if (lang) f.lang = lang.slice(0, 2).toLowerCase();
          if (c.attrs.htmlUrl) f.siteUrl = c.attrs.htmlUrl;
          out.push(f);
        }
      }
      walk(c);
    }
  };
  walk(doc.root);
  return out;
}

const attr = (s: string) => escapeXml(s).replace(/"/g, '&quot;');

export function writeOpml(feeds: OpmlFeed[], title = 'mamori bulletin sources'): string {
  const lines = feeds.map(
    (f) =>
      `    <outline type="rss" text="${attr(f.name)}" title="${attr(f.name)}" xmlUrl="${attr(f.url)}"${f.siteUrl ? ` htmlUrl="${attr(f.siteUrl)}"` : ''}${f.lang ? ` language="${attr(f.lang)}"` : ''}/>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head><title>${escapeXml(title)}</title></head>\n  <body>\n${lines.join('\n')}\n  </body>\n</opml>\n`;
}
