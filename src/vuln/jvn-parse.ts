/**
 * JVN input: XML (VULDEF, JVNRSS/RDF) through fast-xml-parser with namespace prefixes removed,
 * JSON as is; the pure core/jvn.ts maps every form to VulnRecords. Truncated XML is reported
 * with its line and column.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { jvnRecords } from './core/jvn.js';
import { RecordError } from './core/osv.js';
import { decodeUtf8, type InputEntry, type Parsed, recordsOf } from './input.js';

const ARRAYS = new Set([
  'Vulinfo',
  'item',
  'RelatedItem',
  'AffectedItem',
  'Cvss',
  'Cpe',
  'references',
  'cpe',
  'cvss',
  'HistoryItem',
  'VersionNumber',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ARRAYS.has(name),
});

export function parseJvnDocument(text: string): unknown {
  if (text.trimStart().startsWith('<')) {
    const valid = XMLValidator.validate(text, { allowBooleanAttributes: true });
    // MyJVN's own status element carries `retCd= 0` (an unquoted attribute): tolerated, since
    // the parser reads the rest of the document exactly. Anything else malformed is an error.
    if (valid !== true && valid.err.code !== 'InvalidAttr') {
      const lines = text.split('\n');
      const atEnd = valid.err.line === 1 && valid.err.col === 1 && lines.length > 1;
      throw Object.assign(new RecordError(`malformed XML: ${valid.err.msg.replace(/\s+/g, ' ')}`), {
        position: atEnd
          ? `line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1} (end of input)`
          : `line ${valid.err.line}, column ${valid.err.col}`,
      });
    }
    return parser.parse(text);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // MyJVN's JSON examples write an empty status value as `"retMax": ,`: read it as null.
    const repaired = text.replace(/:\s*(?=[,}])/g, ': null');
    try {
      return JSON.parse(repaired);
    } catch {
      const msg = (err as Error).message;
      const m = /position (\d+)/.exec(msg);
      let position = `end of input (${text.length} characters)`;
      if (m) {
        const before = text.slice(0, Number(m[1]));
        const line = before.split('\n').length;
        position = `line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
      }
      throw Object.assign(new RecordError(`malformed JSON: ${msg.split('\n')[0]}`), { position });
    }
  }
}

export function* parseJvnEntry(entry: InputEntry): Generator<Parsed> {
  let doc: unknown;
  try {
    doc = parseJvnDocument(decodeUtf8(entry.name, entry.bytes));
  } catch (err) {
    const e = err as Error & { position?: string };
    yield {
      ok: false,
      error: {
        file: entry.name,
        ...(e.position && e.position !== entry.name ? { position: e.position } : {}),
        message: e.message,
      },
    };
    return;
  }
  yield* recordsOf(entry.name, () => jvnRecords(doc));
}
