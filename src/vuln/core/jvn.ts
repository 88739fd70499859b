/**
 * JVN iPedia → VulnRecord, from every form MyJVN publishes: VULDEF 3.x XML
 * (getVulnDetailInfo, dataFeed detail), JVNRSS 3.2 XML (getVulnOverviewList, jvndb_*.rdf; RSS
 * 1.0 elements in the default namespace and under `rss:`), the JSON feed entries, the CSAF-style
 * JSON detail (alone or inside a STIX bundle), and the lower-case JSON form of VULDEF. Input is
 * already parsed (XML with namespace prefixes removed). Dates are JST: a date without an offset
 * is read as +09:00.
 */
import { formatCpe, parseCpe } from './cpe.js';
import {
  cvss2Score10,
  cvss3Score10,
  cvss4Score10,
  parseSeverityWord,
  type Severity,
  severityOf2,
  severityOf3,
  severityRank,
} from './cvss.js';
import { toUtcIso } from './names.js';
import { RecordError } from './osv.js';
import type { CpeMatch, Reference, VulnRecord } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];

/** Text of an XML node that may be a string or { '#text': … }. */
function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number') return String(v);
  if (isObj(v) && v['#text'] !== undefined) return text(v['#text']);
  return undefined;
}

/** A case-insensitive field getter: VULDEF XML is CamelCase, its JSON form lower case. */
function get(o: unknown, key: string): unknown {
  if (!isObj(o)) return undefined;
  if (key in o) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

const jst = (s: string | undefined) => toUtcIso(s, '+09:00');
const CVE = /^CVE-\d{4}-\d{4,}$/;
const CWE = /NVD-CWE-[A-Za-z]+|CWE-\d+|CWE-Other|CWE-noinfo/;

class Builder {
  rec: VulnRecord;
  /** Best per CVSS generation: v3/v4 scores win over v2, as NVD and IPA show them. */
  private best: { severity: Severity; score10?: number } | undefined;
  private bestV2: { severity: Severity; score10?: number } | undefined;
  constructor(id: string) {
    if (!/^JVNDB-\d{4}-\d+$/.test(id)) throw new RecordError(`not a JVNDB id: ${id}`);
    this.rec = { source: 'jvn', id, aliases: [], cwes: [], references: [], affected: [], cpes: [] };
  }
  alias(a: string | undefined) {
    if (a && CVE.test(a.trim()) && !this.rec.aliases.includes(a.trim()))
      this.rec.aliases.push(a.trim());
  }
  cwe(c: string | undefined) {
    const m = c ? CWE.exec(c) : null;
    if (m && !this.rec.cwes.includes(m[0])) this.rec.cwes.push(m[0]);
  }
  ref(type: string, url: string | undefined) {
    if (url && !this.rec.references.some((r) => r.url === url))
      this.rec.references.push({ type, url: url.trim() });
  }
  cpe(raw: string | undefined) {
    if (!raw) return;
    const c = parseCpe(raw);
    if (!c) return;
    const cpe = formatCpe(c);
    if (this.rec.cpes.some((x) => x.cpe === cpe)) return;
    const m: CpeMatch = { cpe, vulnerable: true, confidence: 'low' };
    this.rec.cpes.push(m);
  }
  cvss(
    version: string | undefined,
    vector: string | undefined,
    base: string | undefined,
    sevWord: string | undefined,
  ) {
    if (!vector) return;
    const v2 = version?.startsWith('2') || !vector.startsWith('CVSS:');
    let score10 = v2
      ? cvss2Score10(vector)
      : vector.startsWith('CVSS:4')
        ? cvss4Score10(vector)
        : cvss3Score10(vector);
    if (score10 === undefined && base && !Number.isNaN(Number(base)))
      score10 = Math.round(Number(base) * 10);
    if (v2) this.rec.cvssV2 = vector;
    else if (vector.startsWith('CVSS:4')) this.rec.cvssV4 = vector;
    else this.rec.cvssV3 = vector;
    const sev =
      score10 !== undefined
        ? v2
          ? severityOf2(score10)
          : severityOf3(score10)
        : parseSeverityWord(sevWord);
    if (!sev) return;
    const cand = score10 === undefined ? { severity: sev } : { severity: sev, score10 };
    const prev = v2 ? this.bestV2 : this.best;
    if (
      !prev ||
      (cand.score10 ?? -1) > (prev.score10 ?? -1) ||
      severityRank(sev) > severityRank(prev.severity)
    ) {
      if (v2) this.bestV2 = cand;
      else this.best = cand;
    }
  }
  dates(registered?: string, published?: string, modified?: string) {
    const r = jst(registered);
    const p = jst(published);
    const m = jst(modified);
    if (r) this.rec.registered = r;
    if (p) this.rec.published = p;
    if (m) this.rec.modified = m;
  }
  done(): VulnRecord {
    const best = this.best ?? this.bestV2;
    if (best) {
      this.rec.severity = best.severity;
      if (best.score10 !== undefined) this.rec.cvssScore10 = best.score10;
    }
    this.rec.aliases.sort();
    return this.rec;
  }
}

/** One VULDEF Vulinfo (XML with prefixes removed, or the lower-case JSON form). */
export function fromVulinfo(v: unknown): VulnRecord {
  const id = text(get(v, 'VulinfoID'));
  if (!id) throw new RecordError('Vulinfo without VulinfoID');
  const b = new Builder(id);
  const d = get(v, 'VulinfoData');
  if (!isObj(d)) throw new RecordError(`${id}: VulinfoData is missing`);
  const title = text(get(d, 'Title'));
  if (title) b.rec.titleJa = title;
  const overview = text(get(get(d, 'VulinfoDescription'), 'Overview'));
  if (overview) b.rec.descriptionJa = overview;
  for (const item of list(get(get(d, 'Affected'), 'AffectedItem'))) {
    for (const c of list(get(item, 'Cpe'))) b.cpe(text(c));
  }
  for (const c of list(get(get(d, 'Impact'), 'Cvss'))) {
    const version = text(get(c, '@_version')) ?? text(get(c, 'version'));
    const sev = get(c, 'Severity');
    b.cvss(
      version,
      text(get(c, 'Vector')),
      text(get(c, 'Base')),
      text(sev) ?? text(get(sev, 'text')),
    );
  }
  for (const r of list(get(get(d, 'Related'), 'RelatedItem'))) {
    const type = text(get(r, '@_type')) ?? text(get(r, 'type')) ?? 'WEB';
    const rid = text(get(r, 'VulinfoID'));
    if (type === 'cwe') b.cwe(rid);
    else b.alias(rid);
    b.ref(type === 'cwe' ? 'CWE' : type.toUpperCase(), text(get(r, 'URL')));
  }
  b.dates(
    text(get(d, 'DateFirstPublished')),
    text(get(d, 'DatePublic')),
    text(get(d, 'DateLastUpdated')),
  );
  return b.done();
}

/** One JVNRSS item (getVulnOverviewList, jvndb_*.rdf). */
export function fromRssItem(item: unknown): VulnRecord {
  const id = text(get(item, 'identifier'));
  if (!id) throw new RecordError('item without sec:identifier');
  const b = new Builder(id);
  const title = text(get(item, 'title'));
  if (title) b.rec.titleJa = title;
  const desc = text(get(item, 'description'));
  if (desc) b.rec.descriptionJa = desc;
  for (const r of list(get(item, 'references'))) {
    const source = text(get(r, '@_source'));
    const rid = text(get(r, '@_id'));
    if (rid && CWE.test(rid) && !source) b.cwe(rid);
    else if (source === 'CVE' || source === 'NVD') b.alias(rid);
    b.ref(source ?? 'CWE', text(r));
  }
  for (const c of list(get(item, 'cpe'))) b.cpe(text(c));
  for (const c of list(get(item, 'cvss')))
    b.cvss(
      text(get(c, '@_version')),
      text(get(c, '@_vector')),
      text(get(c, '@_score')),
      text(get(c, '@_severity')),
    );
  // IPA counts by dcterms:issued; an empty one (seen in getVulnOverviewList) falls back to dc:date.
  b.dates(
    text(get(item, 'issued')) ?? text(get(item, 'date')),
    text(get(item, 'date')),
    text(get(item, 'modified')),
  );
  const link = text(get(item, 'link'));
  if (link) b.ref('ADVISORY', link);
  return b.done();
}

function metricsInto(b: Builder, metrics: unknown) {
  for (const m of list(metrics)) {
    const content = get(m, 'content');
    for (const key of ['cvss_v2', 'cvss_v3', 'cvss_v4']) {
      const c = get(content, key);
      if (isObj(c))
        b.cvss(text(c.version), text(c.vectorString), text(c.baseScore), text(c.baseSeverity));
    }
  }
}

/** One entry of the MyJVN JSON feed (getVulnOverviewList / dataFeed, format json). */
export function fromFeedEntry(e: unknown): VulnRecord {
  const id = text(get(e, 'id'));
  if (!id) throw new RecordError('feed entry without id');
  const b = new Builder(id);
  const title = text(get(e, 'title'));
  if (title) b.rec.titleJa = title;
  const summary = text(get(e, 'summary'));
  if (summary) b.rec.descriptionJa = summary;
  for (const r of list(get(e, 'references'))) {
    const s = text(get(r, 'summary'));
    const src = text(get(r, 'source'));
    if (src === 'CVE' || src === 'NVD') b.alias(s);
    b.ref(src ?? 'WEB', text(get(r, 'url')));
  }
  for (const p of list(get(e, 'products'))) b.cpe(text(get(get(p, 'product_ids'), 'cpe')));
  metricsInto(b, get(e, 'metrics'));
  for (const c of list(get(e, 'cwes'))) b.cwe(text(get(c, 'id')));
  b.dates(text(get(e, 'created')), text(get(e, 'public')), text(get(e, 'modified')));
  return b.done();
}

/** The CSAF-style JSON detail (getVulnDetailInfo, ft=jvncsaf or the default JSON). */
export function fromCsaf(doc: unknown): VulnRecord {
  const d = get(doc, 'document');
  const tracking = get(d, 'tracking');
  const id = text(get(tracking, 'id'));
  if (!id) throw new RecordError('CSAF document without tracking.id');
  const b = new Builder(id);
  const title = text(get(d, 'title'));
  if (title) b.rec.titleJa = title;
  const desc = list(get(d, 'notes')).find((n) => text(get(n, 'category')) === 'description');
  if (desc) {
    const t = text(get(desc, 'text'));
    if (t) b.rec.descriptionJa = t;
  }
  for (const r of list(get(d, 'references'))) {
    b.alias(text(get(r, 'summary')));
    b.ref(text(get(r, 'type'))?.toUpperCase() ?? 'WEB', text(get(r, 'url')));
  }
  const walk = (branches: unknown) => {
    for (const br of list(branches)) {
      b.cpe(text(get(get(get(br, 'product'), 'product_identification_helper'), 'cpe')));
      walk(get(br, 'branches'));
    }
  };
  walk(get(get(doc, 'product_tree'), 'branches'));
  for (const v of list(get(doc, 'vulnerabilities'))) {
    b.alias(text(get(v, 'cve')));
    for (const c of list(get(v, 'cwes'))) b.cwe(text(get(c, 'id')));
    metricsInto(b, get(v, 'metrics'));
  }
  b.dates(
    text(get(tracking, 'initial_release_date')),
    text(get(tracking, 'public_date')),
    text(get(tracking, 'current_release_date')),
  );
  return b.done();
}

/**
 * Every JVN record in one parsed document, whatever its form. Errors per record are returned
 * in place so one bad entry does not hide the others.
 * @example jvnRecords(JSON.parse(feedDetailJson)) // [{ ok: true, record: { id: 'JVNDB-2022-000001', … } }]
 */
/**
 * JVN iPedia keeps a deleted entry in its feeds with its title or overview replaced by
 * `** 削除 **` ("deleted"; go-cve-dictionary drops such entries). Mamori keeps it, withdrawn, so a
 * sync counts it and `check` and `stats` leave it out. (`** 未確定 **`, unconfirmed, and
 * `** サポート外 **`, unsupported product, stay ordinary entries, as CVE's DISPUTED and
 * UNSUPPORTED WHEN ASSIGNED do.)
 */
const DELETED = /\*\*\s*削除\s*\*\*/;

function markDeleted(rec: VulnRecord): VulnRecord {
  if (rec.withdrawn) return rec;
  const texts = [rec.titleJa, rec.title, rec.descriptionJa, rec.description];
  if (!texts.some((t) => t !== undefined && DELETED.test(t))) return rec;
  return {
    ...rec,
    withdrawn: rec.modified ?? rec.published ?? rec.registered ?? '1970-01-01T00:00:00Z',
  };
}

export function jvnRecords(
  doc: unknown,
): ({ ok: true; record: VulnRecord } | { ok: false; at: string; message: string })[] {
  const out: ({ ok: true; record: VulnRecord } | { ok: false; at: string; message: string })[] = [];
  const each = (items: unknown[], at: string, fn: (x: unknown) => VulnRecord) => {
    items.forEach((x, i) => {
      try {
        out.push({ ok: true, record: markDeleted(fn(x)) });
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        out.push({ ok: false, at: `${at}[${i}]`, message: err.message });
      }
    });
  };
  if (!isObj(doc)) throw new RecordError('not a JVN document');
  if (isObj(doc['VULDEF-Document']))
    each(list(get(doc['VULDEF-Document'], 'Vulinfo')), 'Vulinfo', fromVulinfo);
  else if (isObj(doc.RDF)) each(list(get(doc.RDF, 'item')), 'item', fromRssItem);
  else if ('vulinfoid' in doc || 'VulinfoID' in doc) each([doc], 'record', fromVulinfo);
  else if (isObj(doc.feed)) each(list(get(doc.feed, 'entry')), 'feed.entry', fromFeedEntry);
  else if (isObj(doc.document)) each([doc], 'document', fromCsaf);
  else if (doc.type === 'bundle') {
    for (const o of list(doc.objects)) {
      const vd = get(o, 'VULDEF-Document');
      if (vd) each(list(vd), 'VULDEF-Document', fromCsaf);
    }
  } else
    throw new RecordError(
      'not a JVN form this parser knows (VULDEF, JVNRSS, MyJVN feed, CSAF, STIX)',
    );
  return out;
}

export type { Reference };
