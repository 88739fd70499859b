/**
 * The request as SecLang sees it: the request line, headers, cookies and query arguments
 * (phase 1) and the body parsed by processor (phase 2): URL-encoded, multipart (with
 * ModSecurity's strict multipart checks), JSON and XML. All text is byte strings.
 * Not an HTTP parser: the proxy and the test runner hand in a parsed request.
 */

export interface HttpRequest {
  method: string;
  /** The request target as sent. */
  uri: string;
  protocol: string;
  headers: Array<[string, string]>;
  /** Body bytes as a byte string. */
  body: string;
  remoteAddr: string;
  remotePort: number;
  serverPort: number;
}

export interface Entry {
  key: string;
  value: string;
}

export type Collections = Map<string, Entry[]>;

function decodeArg(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '+') out += ' ';
    else if (c === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += c;
  }
  return out;
}

/** Splits `a=1&b=2` into decoded entries; `urlencodedError` notes bad %-escapes. */
export function parseUrlencoded(s: string): { args: Entry[]; invalid: boolean } {
  const args: Entry[] = [];
  let invalid = false;
  if (s === '') return { args, invalid };
  for (const pair of s.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = eq === -1 ? pair : pair.slice(0, eq);
    const v = eq === -1 ? '' : pair.slice(eq + 1);
    if (/%(?![0-9a-fA-F]{2})/.test(pair)) invalid = true;
    args.push({ key: decodeArg(k), value: decodeArg(v) });
  }
  return { args, invalid };
}

export function parseCookies(headers: string[]): Entry[] {
  const out: Entry[] = [];
  for (const h of headers) {
    for (const part of h.split(';')) {
      const t = part.replace(/^\s+|\s+$/g, '');
      if (t === '') continue;
      const eq = t.indexOf('=');
      out.push(eq === -1 ? { key: t, value: '' } : { key: t.slice(0, eq), value: t.slice(eq + 1) });
    }
  }
  return out;
}

export function headerValues(req: HttpRequest, name: string): string[] {
  const n = name.toLowerCase();
  return req.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

/** Phase-1 collections. */
export function requestCollections(req: HttpRequest, uniqueId: string): Collections {
  const c: Collections = new Map();
  const set = (name: string, value: string) => c.set(name, [{ key: '', value }]);
  let target = req.uri;
  // absolute-form: REQUEST_URI drops scheme and authority
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (abs) target = target.slice(abs[0].length) || '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  set('REQUEST_METHOD', req.method);
  set('REQUEST_PROTOCOL', req.protocol);
  set('REQUEST_LINE', `${req.method} ${req.uri} ${req.protocol}`);
  set('REQUEST_URI', target);
  set('REQUEST_URI_RAW', req.uri);
  // REQUEST_FILENAME is the %-decoded path, as ModSecurity (Apache's parsed URI), libmodsecurity
  // and Coraza give it; '+' stays '+' in a path
  const filename = path.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) =>
    String.fromCharCode(Number.parseInt(h, 16)),
  );
  set('REQUEST_FILENAME', filename);
  set('REQUEST_BASENAME', filename.slice(filename.lastIndexOf('/') + 1));
  set('QUERY_STRING', query);
  set('REMOTE_ADDR', req.remoteAddr);
  set('REMOTE_PORT', String(req.remotePort));
  set('SERVER_PORT', String(req.serverPort));
  set('UNIQUE_ID', uniqueId);
  c.set(
    'REQUEST_HEADERS',
    req.headers.map(([key, value]) => ({ key, value })),
  );
  c.set(
    'REQUEST_HEADERS_NAMES',
    req.headers.map(([key]) => ({ key, value: key })),
  );
  const cookies = parseCookies(headerValues(req, 'cookie'));
  c.set('REQUEST_COOKIES', cookies);
  c.set(
    'REQUEST_COOKIES_NAMES',
    cookies.map((e) => ({ key: e.key, value: e.key })),
  );
  const get = parseUrlencoded(query);
  c.set('ARGS_GET', get.args);
  c.set('ARGS_POST', []);
  set('URLENCODED_ERROR', get.invalid ? '1' : '0');
  rebuildArgs(c);
  set('REQBODY_ERROR', '0');
  set('REQBODY_ERROR_MSG', '');
  set('REQBODY_PROCESSOR', defaultProcessor(headerValues(req, 'content-type')[0] ?? ''));
  for (const name of ['FILES', 'FILES_NAMES', 'FILES_SIZES', 'MULTIPART_PART_HEADERS', 'XML']) {
    c.set(name, []);
  }
  set('FILES_COMBINED_SIZE', '0');
  set('REQUEST_BODY_LENGTH', String(req.body.length));
  set('FULL_REQUEST_LENGTH', String(req.body.length));
  return c;
}

function defaultProcessor(contentType: string): string {
  const ct = contentType.toLowerCase();
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'URLENCODED';
  if (ct.startsWith('multipart/form-data')) return 'MULTIPART';
  return '';
}

export function rebuildArgs(c: Collections): void {
  const args = [...(c.get('ARGS_GET') ?? []), ...(c.get('ARGS_POST') ?? [])];
  c.set('ARGS', args);
  c.set(
    'ARGS_NAMES',
    args.map((e) => ({ key: e.key, value: e.key })),
  );
  c.set(
    'ARGS_GET_NAMES',
    (c.get('ARGS_GET') ?? []).map((e) => ({ key: e.key, value: e.key })),
  );
  c.set(
    'ARGS_POST_NAMES',
    (c.get('ARGS_POST') ?? []).map((e) => ({ key: e.key, value: e.key })),
  );
  let size = 0;
  for (const e of args) size += e.key.length + e.value.length;
  c.set('ARGS_COMBINED_SIZE', [{ key: '', value: String(size) }]);
}

const setScalar = (c: Collections, name: string, value: string) =>
  c.set(name, [{ key: '', value }]);

function bodyError(c: Collections, msg: string): void {
  setScalar(c, 'REQBODY_ERROR', '1');
  setScalar(c, 'REQBODY_ERROR_MSG', msg);
}

/**
 * Phase-2: parses the body with the processor chosen (by Content-Type or `ctl`), filling ARGS_POST,
 * FILES, XML and the error flags. Never throws on bad input: it sets REQBODY_ERROR.
 */
export function parseBody(
  c: Collections,
  req: HttpRequest,
  processor: string,
  forceBodyVariable: boolean,
): void {
  const body = req.body;
  const proc = processor.toUpperCase();
  // ModSecurity 2.9 keeps the raw body readable behind the JSON processor too, not behind XML
  if (proc === 'URLENCODED' || proc === 'JSON' || forceBodyVariable) {
    setScalar(c, 'REQUEST_BODY', body);
  }
  if (body === '') return;
  try {
    if (proc === 'URLENCODED') {
      const r = parseUrlencoded(body);
      c.set('ARGS_POST', r.args);
      if (r.invalid) setScalar(c, 'URLENCODED_ERROR', '1');
    } else if (proc === 'JSON') {
      parseJsonBody(c, body);
    } else if (proc === 'XML') {
      parseXmlBody(c, body);
    } else if (proc === 'MULTIPART') {
      parseMultipartBody(c, req, body);
    }
  } catch (err) {
    bodyError(c, (err as Error).message);
  }
  rebuildArgs(c);
}

function parseJsonBody(c: Collections, body: string): void {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(bytes(body)));
  } catch (err) {
    bodyError(c, `JSON parsing error: ${(err as Error).message}`);
    return;
  }
  const args: Entry[] = [];
  const walk = (v: unknown, name: string, depth: number) => {
    if (depth > 64) throw new Error('JSON nesting too deep');
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${name}.${i}`, depth + 1);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, `${name}.${k}`, depth + 1);
    } else args.push({ key: toBytes(name), value: toBytes(v === null ? '' : String(v)) });
  };
  walk(value, 'json', 0);
  c.set('ARGS_POST', args);
}

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function toBytes(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  let out = '';
  for (const x of new TextEncoder().encode(s)) out += String.fromCharCode(x);
  return out;
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function parseXmlBody(c: Collections, body: string): void {
  const text: string[] = [];
  const attrs: string[] = [];
  const stack: string[] = [];
  let i = 0;
  let sawRoot = false;
  // libxml2 resolves the predefined entities and character references (as UTF-8 bytes)
  const decode = (s: string) =>
    s.replace(
      /&(?:(lt|gt|amp|quot|apos)|#x([0-9a-fA-F]{1,6})|#([0-9]{1,7}));/g,
      (m, e, hex, dec) => {
        if (e !== undefined) return XML_ENTITIES[e as string] ?? '';
        const cp = hex !== undefined ? Number.parseInt(hex as string, 16) : Number(dec);
        return cp > 0 && cp <= 0x10ffff ? toBytes(String.fromCodePoint(cp)) : m;
      },
    );
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    if (lt === -1) {
      if (body.slice(i).trim() !== '') text.push(decode(body.slice(i)));
      break;
    }
    if (lt > i && stack.length > 0) text.push(decode(body.slice(i, lt)));
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt + 4);
      if (end === -1) throw new Error('XML parsing error: unterminated comment');
      i = end + 3;
    } else if (body.startsWith('<![CDATA[', lt)) {
      const end = body.indexOf(']]>', lt + 9);
      if (end === -1) throw new Error('XML parsing error: unterminated CDATA');
      text.push(body.slice(lt + 9, end));
      i = end + 3;
    } else if (body.startsWith('<?', lt) || body.startsWith('<!', lt)) {
      const end = body.indexOf('>', lt);
      if (end === -1) throw new Error('XML parsing error: unterminated declaration');
      i = end + 1;
    } else {
      const end = body.indexOf('>', lt);
      if (end === -1) throw new Error('XML parsing error: unterminated tag');
      const tag = body.slice(lt + 1, end);
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        if (stack.pop() !== name) throw new Error(`XML parsing error: mismatched </${name}>`);
      } else {
        const m = /^([^\s/>]+)/.exec(tag);
        if (!m) throw new Error('XML parsing error: bad tag');
        for (const a of tag.matchAll(/\s[^\s=]+\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
          attrs.push(decode(a[1] ?? a[2] ?? ''));
        }
        if (!tag.endsWith('/')) {
          if (stack.length === 0 && sawRoot) throw new Error('XML parsing error: two roots');
          stack.push(m[1] as string);
        }
        sawRoot = true;
      }
      i = end + 1;
    }
  }
  if (stack.length > 0 || !sawRoot) throw new Error('XML parsing error: document incomplete');
  c.set('XML', [
    { key: '/*', value: text.join('') },
    ...attrs.map((value) => ({ key: '//@*', value })),
  ]);
}

/** Multipart/form-data with ModSecurity's strict checks (MULTIPART_STRICT_ERROR and friends). */
function parseMultipartBody(c: Collections, req: HttpRequest, body: string): void {
  const ct = headerValues(req, 'content-type')[0] ?? '';
  const flags: Record<string, boolean> = {
    MULTIPART_BOUNDARY_QUOTED: false,
    MULTIPART_BOUNDARY_WHITESPACE: false,
    MULTIPART_DATA_BEFORE: false,
    MULTIPART_DATA_AFTER: false,
    MULTIPART_HEADER_FOLDING: false,
    MULTIPART_LF_LINE: false,
    MULTIPART_CRLF_LF_LINES: false,
    MULTIPART_MISSING_SEMICOLON: false,
    MULTIPART_INVALID_QUOTING: false,
    MULTIPART_INVALID_PART: false,
    MULTIPART_INVALID_HEADER_FOLDING: false,
    MULTIPART_FILE_LIMIT_EXCEEDED: false,
    MULTIPART_UNMATCHED_BOUNDARY: false,
  };
  const bm = /boundary\s*=\s*("?)([^";,]*)("?)/i.exec(ct);
  let reqbodyError = false;
  const finish = () => {
    let strict = reqbodyError;
    for (const [k, v] of Object.entries(flags)) {
      setScalar(c, k, v ? '1' : '0');
      if (v && k !== 'MULTIPART_UNMATCHED_BOUNDARY' && k !== 'MULTIPART_FILE_LIMIT_EXCEEDED')
        strict = true;
    }
    setScalar(c, 'MULTIPART_STRICT_ERROR', strict ? '1' : '0');
  };
  if (!bm || (bm[2] as string) === '') {
    bodyError(c, 'Multipart: boundary not found in C-T');
    reqbodyError = true;
    finish();
    return;
  }
  const boundary = bm[2] as string;
  if (bm[1] === '"') flags.MULTIPART_BOUNDARY_QUOTED = true;
  if (/\s/.test(boundary) || /boundary\s+=|=\s+"?/i.test(ct))
    flags.MULTIPART_BOUNDARY_WHITESPACE = true;
  const delim = `--${boundary}`;
  const first = body.indexOf(delim);
  if (first === -1) {
    bodyError(c, 'Multipart: no boundaries found in payload');
    reqbodyError = true;
    finish();
    return;
  }
  if (first > 0) flags.MULTIPART_DATA_BEFORE = true;
  const args: Entry[] = [];
  const files: Entry[] = [];
  const fileNames: Entry[] = [];
  const sizes: Entry[] = [];
  const partHeaders: Entry[] = [];
  let pos = first;
  let combined = 0;
  let closed = false;
  for (let guard = 0; guard < 10_000; guard++) {
    let after = pos + delim.length;
    if (body.startsWith('--', after)) {
      closed = true;
      const rest = body.slice(after + 2);
      if (rest.replace(/^\r?\n/, '') !== '') flags.MULTIPART_DATA_AFTER = true;
      break;
    }
    if (body.startsWith('\r\n', after)) after += 2;
    else if (body[after] === '\n') {
      after += 1;
      flags.MULTIPART_LF_LINE = true;
    } else {
      flags.MULTIPART_INVALID_PART = true;
    }
    const next = body.indexOf(`\n${delim}`, after);
    if (next === -1) {
      reqbodyError = true;
      bodyError(c, 'Multipart: final boundary missing');
      break;
    }
    let partEnd = next;
    if (body[partEnd - 1] === '\r') partEnd -= 1;
    else flags.MULTIPART_LF_LINE = true;
    parsePart(
      body.slice(after, partEnd),
      flags,
      { args, files, fileNames, sizes, partHeaders },
      (n) => {
        combined += n;
      },
    );
    pos = next + 1;
  }
  if (!closed && !reqbodyError) {
    reqbodyError = true;
    bodyError(c, 'Multipart: final boundary missing');
  }
  // a line that looks like a boundary but is not ours
  const lines = body.split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('--') && !line.startsWith(delim) && line.length > 2) {
      const other = line.slice(2);
      if (
        other.length >= boundary.length - 2 &&
        /^[-A-Za-z0-9'()+_,./:=?]+$/.test(other) &&
        other.startsWith(boundary.slice(0, 8))
      ) {
        flags.MULTIPART_UNMATCHED_BOUNDARY = true;
      }
    }
  }
  if (body.includes('\r\n') && /[^\r]\n/.test(body)) flags.MULTIPART_CRLF_LF_LINES = true;
  c.set('ARGS_POST', args);
  c.set('FILES', files);
  c.set('FILES_NAMES', fileNames);
  c.set('FILES_SIZES', sizes);
  c.set('MULTIPART_PART_HEADERS', partHeaders);
  setScalar(c, 'FILES_COMBINED_SIZE', String(combined));
  finish();
}

interface PartSink {
  args: Entry[];
  files: Entry[];
  fileNames: Entry[];
  sizes: Entry[];
  partHeaders: Entry[];
}

function parsePart(
  part: string,
  flags: Record<string, boolean>,
  sink: PartSink,
  addSize: (n: number) => void,
): void {
  let sep = part.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (sep === -1) {
    sep = part.indexOf('\n\n');
    sepLen = 2;
  }
  if (sep === -1) {
    flags.MULTIPART_INVALID_PART = true;
    return;
  }
  const rawHeaders = part.slice(0, sep).split(/\r?\n/);
  const data = part.slice(sep + sepLen);
  const headers: string[] = [];
  for (const line of rawHeaders) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      flags.MULTIPART_HEADER_FOLDING = true;
      headers[headers.length - 1] += line;
    } else headers.push(line);
  }
  let name: string | undefined;
  let filename: string | undefined;
  for (const h of headers) {
    const colon = h.indexOf(':');
    if (colon === -1) {
      flags.MULTIPART_INVALID_PART = true;
      continue;
    }
    const hn = h.slice(0, colon).trim();
    const hv = h.slice(colon + 1).trim();
    if (hn.toLowerCase() === 'content-disposition') {
      if (!/^form-data\s*(;|$)/i.test(hv)) flags.MULTIPART_INVALID_PART = true;
      const params = hv.replace(/^form-data\s*;?/i, '');
      if (/"\s+[a-z*]+\s*=/i.test(params)) flags.MULTIPART_MISSING_SEMICOLON = true;
      for (const m of params.matchAll(/([a-zA-Z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
        const key = (m[1] as string).toLowerCase();
        const quoted = m[2];
        const bare = m[3];
        if (quoted !== undefined && /\\/.test(quoted)) flags.MULTIPART_INVALID_QUOTING = true;
        if (bare !== undefined && /['"]/.test(bare)) flags.MULTIPART_INVALID_QUOTING = true;
        const v = quoted ?? bare ?? '';
        if (key === 'name') name = v;
        else if (key === 'filename' || key === 'filename*') filename = v;
      }
    }
    sink.partHeaders.push({ key: name ?? '', value: h });
  }
  for (const e of sink.partHeaders) if (e.key === '' && name !== undefined) e.key = name;
  if (name === undefined) {
    flags.MULTIPART_INVALID_PART = true;
    return;
  }
  if (filename !== undefined) {
    sink.files.push({ key: name, value: filename });
    sink.fileNames.push({ key: name, value: name });
    sink.sizes.push({ key: name, value: String(data.length) });
    addSize(data.length);
  } else {
    sink.args.push({ key: name, value: data });
  }
}
