/**
 * The HTTP front's own checks: requests an HTTP/1.1 server must refuse with 400 before any rule
 * runs (RFC 9112 message syntax, and what Apache's strict parser, `HttpProtocolOptions Strict`,
 * refuses): a request line that is not `method SP target SP HTTP/x.y`, a target in a form the
 * method does not allow or with a fragment or control bytes, a protocol below HTTP/1.0, an
 * HTTP/1.1 request without a host name, an invalid Host, header names that are not tokens, values with CR, LF
 * or NUL, a Content-Length that is not digits (or several that disagree), and Content-Length
 * together with Transfer-Encoding (request smuggling).
 * The proxy applies it to what Node's parser accepted; the in-process test runner applies it so
 * that both model the same front. Not a rule: nothing here is logged as a match.
 */
import type { HttpRequest } from './request.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// reg-name or IPv4 (unreserved and sub-delims, no '%'), or an IPv6 literal, then an optional port
const HOST = /^(?:[A-Za-z0-9._~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$/;

/**
 * Returns why the request is malformed (answer 400), or undefined when it is well formed.
 * @example frontReject({ method: 'GET', uri: '/#x', protocol: 'HTTP/1.1', headers: [], ... }) // 'fragment in the request target'
 */
export function frontReject(req: HttpRequest): string | undefined {
  if (!TOKEN.test(req.method)) return 'method is not a token';
  const v = /^HTTP\/([0-9])\.([0-9])$/.exec(req.protocol);
  if (!v) return `bad protocol ${JSON.stringify(req.protocol)}`;
  if (Number(v[1]) < 1)
    return `protocol ${req.protocol} cannot carry a request line with a version`;
  const target = req.uri;
  if (/[\x00-\x20\x7f]/.test(target)) return 'space or control byte in the request target';
  if (target.includes('#')) return 'fragment in the request target';
  if (req.method === 'CONNECT') {
    if (!/^[^/?]+:[0-9]+$/.test(target)) return 'CONNECT target is not host:port';
  } else if (target === '*') {
    if (req.method !== 'OPTIONS') return '* target outside OPTIONS';
  } else if (!target.startsWith('/') && !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(target)) {
    return 'request target is neither a path nor an absolute URI';
  }
  let hosts = 0;
  let hostName = '';
  const lengths = new Set<string>();
  let chunked = false;
  for (const [name, value] of req.headers) {
    if (!TOKEN.test(name)) return 'header name is not a token';
    if (/[\r\n\x00]/.test(value)) return `CR, LF or NUL in header ${name}`;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      hosts++;
      hostName = value;
      if (value !== '' && !HOST.test(value)) return 'invalid Host';
    } else if (lower === 'content-length') {
      if (!/^[0-9]+$/.test(value)) return 'Content-Length is not digits';
      lengths.add(value.replace(/^0+(?=.)/, ''));
    } else if (lower === 'transfer-encoding') chunked = true;
  }
  if (hosts > 1) return 'more than one Host';
  // as Apache: HTTP/1.1 needs a host name; an empty Host is left to the rules in HTTP/1.0
  if (hostName === '' && (Number(v[1]) > 1 || Number(v[2]) >= 1)) return 'HTTP/1.1 without a Host';
  if (lengths.size > 1) return 'conflicting Content-Length values';
  if (lengths.size > 0 && chunked) return 'both Content-Length and Transfer-Encoding';
  return undefined;
}
