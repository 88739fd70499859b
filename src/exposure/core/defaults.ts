/**
 * Which factory-default credentials the audit may try on a service, and where: Mamori's own
 * table (FACTORY_DEFAULTS) plus, when Debian's nmap is installed, the HTTP Basic/Digest entries
 * of its `http-default-accounts-fingerprints.lua`. Also the documented unauthenticated camera
 * paths and the Hikvision CVE-2017-7921 bypass the audit probes by status. Pure: the Lua text
 * comes in as a string. Not a Lua interpreter: only the data fields are read, never the code.
 */
import { FACTORY_DEFAULTS } from './mamori-fingerprints.js';

export interface DefaultCredential {
  user: string;
  password: string;
  source: string;
}

/** One entry of nmap's default-account fingerprints that logs in with HTTP Basic/Digest. */
export interface NmapDefaultAccount {
  name: string;
  category: string;
  paths: string[];
  combos: { user: string; password: string }[];
}

const LUA_STRING = String.raw`"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'`;

function luaUnescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

function luaField(block: string, key: string): string | undefined {
  const m = new RegExp(`\\b${key}\\s*=\\s*(?:${LUA_STRING})`).exec(block);
  if (!m) return undefined;
  return luaUnescape(m[1] ?? m[2] ?? '');
}

/**
 * Read the data of nmap's http-default-accounts fingerprints: entries whose login check is HTTP
 * Basic/Digest (`try_http_basic_login`), the only kind the audit speaks.
 * @example parseNmapDefaultAccounts(readFileSync('/usr/share/nmap/nselib/data/http-default-accounts-fingerprints.lua', 'utf8'))
 */
export function parseNmapDefaultAccounts(lua: string): NmapDefaultAccount[] {
  const out: NmapDefaultAccount[] = [];
  const blocks = lua.split(/table\.insert\(\s*fingerprints\s*,\s*\{/).slice(1);
  for (const block of blocks) {
    if (!block.includes('try_http_basic_login')) continue;
    const name = luaField(block, 'name');
    if (!name) continue;
    const paths = [
      ...block.matchAll(new RegExp(`\\{\\s*path\\s*=\\s*(?:${LUA_STRING})\\s*\\}`, 'g')),
    ].map((m) => luaUnescape(m[1] ?? m[2] ?? ''));
    const combos = [
      ...block.matchAll(
        new RegExp(
          `\\{\\s*username\\s*=\\s*(?:${LUA_STRING})\\s*,\\s*password\\s*=\\s*(?:${LUA_STRING})\\s*\\}`,
          'g',
        ),
      ),
    ].map((m) => ({
      user: luaUnescape(m[1] ?? m[2] ?? ''),
      password: luaUnescape(m[3] ?? m[4] ?? ''),
    }));
    if (combos.length === 0) continue;
    out.push({ name, category: luaField(block, 'category') ?? '', paths, combos });
  }
  return out;
}

export interface ServiceIdentity {
  vendor: string | null;
  product: string | null;
  title: string | null;
}

const lower = (s: string | null) => (s ?? '').toLowerCase();

/** Whether a table key names this service: its vendor, or a word of its product or title. */
function names(key: string, s: ServiceIdentity): boolean {
  const k = key.toLowerCase();
  if (lower(s.vendor) === k) return true;
  const word = new RegExp(`(?:^|[^a-z0-9])${k.replace(/[^a-z0-9]/g, '\\$&')}(?:$|[^a-z0-9])`);
  return word.test(lower(s.product)) || word.test(lower(s.title));
}

/**
 * The defaults to try on a service, in order, without repeats: Mamori's table for its vendor
 * (or a product/title word such as GoAhead or IPCAM), then nmap's entries whose name starts
 * with the vendor.
 * @example defaultsFor({ vendor: 'Hipcam', product: null, title: null }, [])[0]?.user === 'admin'
 */
export function defaultsFor(
  s: ServiceIdentity,
  nmap: readonly NmapDefaultAccount[],
): { credentials: DefaultCredential[]; paths: string[] } {
  const credentials: DefaultCredential[] = [];
  const paths: string[] = [];
  const seen = new Set<string>();
  const add = (user: string, password: string, source: string) => {
    const key = `${user}\u0000${password}`;
    if (seen.has(key)) return;
    seen.add(key);
    credentials.push({ user, password, source });
  };
  for (const [key, list] of Object.entries(FACTORY_DEFAULTS)) {
    if (!names(key, s)) continue;
    for (const d of list) add(d.user, d.password, d.source);
  }
  const vendor = lower(s.vendor);
  if (vendor) {
    for (const e of nmap) {
      const first = e.name.toLowerCase().split(/[\s/(]+/)[0] ?? '';
      if (first !== vendor) continue;
      for (const c of e.combos) add(c.user, c.password, `nmap http-default-accounts: ${e.name}`);
      for (const p of e.paths) if (!paths.includes(p)) paths.push(p);
    }
  }
  return { credentials, paths };
}

/**
 * Paths that commonly demand HTTP Basic/Digest on cameras whose front page is a login form:
 * where the control and the defaults are tried when `/` itself asks for no password.
 */
export const PROTECTED_PATHS: readonly string[] = [
  '/snapshot.jpg',
  '/ISAPI/System/deviceInfo',
  '/cgi-bin/snapshot.cgi',
  '/axis-cgi/jpg/image.cgi',
  '/videostream.cgi',
  '/cgi-bin/configManager.cgi?action=getConfig&name=General',
];

/**
 * Paths documented as readable without a password on flawed camera firmware (GoAhead/Foscam
 * clones, Hipcam, Hikvision). Probed by status only, against a control path that must not
 * exist; their content is never read or kept.
 */
export const UNAUTHENTICATED_PATHS: readonly { path: string; what: string }[] = [
  { path: '/snapshot.cgi', what: 'a camera snapshot (GoAhead/Foscam-clone firmware)' },
  { path: '/system.ini', what: 'the configuration with the accounts (GoAhead IP cameras)' },
  { path: '/get_params.cgi', what: 'the settings (GoAhead IP cameras)' },
  { path: '/tmpfs/auto.jpg', what: 'a camera snapshot (Hipcam firmware)' },
  { path: '/onvif-http/snapshot', what: 'a camera snapshot (Hikvision)' },
];

/**
 * Hikvision's CVE-2017-7921: `?auth=YWRtaW46MTEK` ("admin:11") opens ISAPI/PSIA paths. A path
 * that answers 401/403 without it and 200 with it has the bypass.
 */
export const HIKVISION_BYPASS = {
  query: 'auth=YWRtaW46MTEK',
  paths: [
    '/ISAPI/System/deviceInfo',
    '/Security/users',
    '/System/configurationFile',
  ] as readonly string[],
};
