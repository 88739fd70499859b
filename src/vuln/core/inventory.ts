/**
 * Inventory parsers for `vuln check`: CycloneDX JSON 1.4–1.6, SPDX JSON 2.3, npm
 * package-lock v2/v3, pinned requirements.txt, poetry.lock (already parsed TOML), dpkg status,
 * and a list of CPE 2.3 names. Each yields components plus one "unsupported" line per item
 * it cannot use; a whole input it cannot use is an E_INPUT-style InventoryError.
 */
import { parseCpe } from './cpe.js';
import { parsePurl, purlToOsv } from './purl.js';

export interface Component {
  name: string;
  version: string;
  /** OSV ecosystem ("PyPI", "npm", "Debian:12"); "CPE" for CPE names. */
  ecosystem: string;
  purl?: string;
  cpe?: string;
}

export interface Inventory {
  format: string;
  components: Component[];
  unsupported: string[];
}

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fromPurl(
  purl: string,
  fallbackName: string,
  fallbackVersion: string | undefined,
  out: Inventory,
): void {
  const p = parsePurl(purl);
  if (!p) {
    out.unsupported.push(`${fallbackName}: malformed purl ${purl}`);
    return;
  }
  const osv = purlToOsv(p);
  const version = p.version ?? fallbackVersion;
  if (!osv) {
    out.unsupported.push(
      `${fallbackName}${version ? `@${version}` : ''}: unsupported ecosystem pkg:${p.type}`,
    );
    return;
  }
  if (!version) {
    out.unsupported.push(`${fallbackName}: no version`);
    return;
  }
  out.components.push({ name: osv.name, version, ecosystem: osv.ecosystem, purl });
}

/** CycloneDX JSON 1.4–1.6 (components, nested components). */
export function parseCycloneDx(doc: Obj): Inventory {
  const spec = String(doc.specVersion ?? '');
  if (!/^1\.[456]$/.test(spec))
    throw new InventoryError(
      `CycloneDX specVersion ${spec || '(none)'} is not supported (1.4–1.6)`,
    );
  const out: Inventory = { format: `cyclonedx-${spec}`, components: [], unsupported: [] };
  const visit = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      if (!isObj(c)) continue;
      const name = typeof c.name === 'string' ? c.name : '(unnamed)';
      const version = typeof c.version === 'string' ? c.version : undefined;
      if (typeof c.purl === 'string') fromPurl(c.purl, name, version, out);
      else if (typeof c.cpe === 'string' && parseCpe(c.cpe))
        out.components.push({ name, version: version ?? '*', ecosystem: 'CPE', cpe: c.cpe });
      else out.unsupported.push(`${name}${version ? `@${version}` : ''}: no purl or cpe`);
      visit(c.components);
    }
  };
  visit(doc.components);
  return out;
}

/** SPDX JSON 2.3: packages with a purl (or cpe23Type) external reference. */
export function parseSpdx(doc: Obj): Inventory {
  const ver = String(doc.spdxVersion ?? '');
  if (ver !== 'SPDX-2.3')
    throw new InventoryError(`SPDX version ${ver || '(none)'} is not supported (SPDX-2.3)`);
  const out: Inventory = { format: 'spdx-2.3', components: [], unsupported: [] };
  for (const p of Array.isArray(doc.packages) ? doc.packages : []) {
    if (!isObj(p)) continue;
    const name = typeof p.name === 'string' ? p.name : '(unnamed)';
    const version = typeof p.versionInfo === 'string' ? p.versionInfo : undefined;
    const refs = Array.isArray(p.externalRefs) ? p.externalRefs.filter(isObj) : [];
    const purl = refs.find((r) => r.referenceType === 'purl')?.referenceLocator;
    const cpe = refs.find((r) => r.referenceType === 'cpe23Type')?.referenceLocator;
    if (typeof purl === 'string') fromPurl(purl, name, version, out);
    else if (typeof cpe === 'string' && parseCpe(cpe))
      out.components.push({ name, version: version ?? '*', ecosystem: 'CPE', cpe });
    else
      out.unsupported.push(
        `${name}${version ? `@${version}` : ''}: no purl or cpe23Type reference`,
      );
  }
  return out;
}

/** npm package-lock.json v2/v3 (`packages`). */
export function parsePackageLock(doc: Obj): Inventory {
  const v = doc.lockfileVersion;
  if (v !== 2 && v !== 3)
    throw new InventoryError(`package-lock lockfileVersion ${String(v)} is not supported (2 or 3)`);
  const out: Inventory = { format: `package-lock-v${v}`, components: [], unsupported: [] };
  const pkgs = isObj(doc.packages) ? doc.packages : {};
  for (const [path, info] of Object.entries(pkgs)) {
    if (path === '' || !isObj(info)) continue;
    const idx = path.lastIndexOf('node_modules/');
    if (idx < 0) continue; // workspace links
    if (info.link === true) continue;
    const name =
      typeof info.name === 'string' ? info.name : path.slice(idx + 'node_modules/'.length);
    if (typeof info.version !== 'string') {
      out.unsupported.push(`${path}: no version`);
      continue;
    }
    out.components.push({ name, version: info.version, ecosystem: 'npm' });
  }
  return out;
}

/** poetry.lock, already parsed from TOML. */
export function parsePoetryLock(doc: Obj): Inventory {
  const out: Inventory = { format: 'poetry.lock', components: [], unsupported: [] };
  const list = doc.package;
  if (!Array.isArray(list)) throw new InventoryError('poetry.lock has no [[package]] tables');
  for (const p of list) {
    if (!isObj(p) || typeof p.name !== 'string' || typeof p.version !== 'string') {
      out.unsupported.push('a [[package]] without name or version');
      continue;
    }
    out.components.push({ name: p.name, version: p.version, ecosystem: 'PyPI' });
  }
  return out;
}

/**
 * One PEP 508 requirement as pip reads it: a name, extras, any version specifiers, a direct
 * URL (`name @ url`) or environment markers. Pinned or not.
 */
const REQUIREMENT =
  /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(?:\[[^\]]*\])?\s*(?:@\s*\S+|(?:(?:===?|~=|!=|<=?|>=?)\s*[A-Za-z0-9*.!+_-]+\s*,?\s*)*)\s*(?:;.*)?$/;

/** A requirement with a version specifier, or a pip option: what makes a text a requirements file. */
const REQUIREMENT_WITH_SPEC =
  /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?:===?|~=|!=|<=?|>=?|@)/;

/** Is this text a requirements file: every line a requirement or pip option, one with a specifier? */
function looksLikeRequirements(text: string): boolean {
  let specified = false;
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    if (line.startsWith('-')) continue;
    const spec = line.split(/\s--hash/)[0]!.trim();
    if (!REQUIREMENT.test(spec)) return false;
    if (REQUIREMENT_WITH_SPEC.test(spec)) specified = true;
  }
  return specified;
}

/**
 * A requirements.txt: `name[extras]==version` lines are components; every other line (unpinned
 * `>=`, a bare name, a URL, a pip option) is one unsupported line saying why it was not checked.
 */
export function parseRequirements(text: string): Inventory {
  const out: Inventory = { format: 'requirements.txt', components: [], unsupported: [] };
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    if (line.startsWith('-')) {
      out.unsupported.push(`line ${i + 1}: option not followed: ${line.split(/\s/)[0]}`);
      return;
    }
    const spec = line
      .split(';')[0]!
      .split(/\s--hash/)[0]!
      .trim();
    const m =
      /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.!+_-]*)$/.exec(
        spec,
      );
    if (!m) {
      out.unsupported.push(
        REQUIREMENT.test(spec)
          ? `line ${i + 1}: unpinned (not ==), not checked: ${spec}`
          : `line ${i + 1}: not a requirement, not checked: ${spec}`,
      );
      return;
    }
    out.components.push({ name: m[1]!, version: m[2]!, ecosystem: 'PyPI' });
  });
  return out;
}

/**
 * /var/lib/dpkg/status: installed packages, named by their source package (as Debian's OSV
 * records are). `release` is the Debian major version from os-release, when known.
 */
export function parseDpkgStatus(
  text: string,
  release?: { id: string; version?: string },
): Inventory {
  const out: Inventory = { format: 'dpkg-status', components: [], unsupported: [] };
  const os = release?.id === 'ubuntu' ? 'Ubuntu' : 'Debian';
  const eco = os === 'Debian' && release?.version ? `Debian:${release.version.split('.')[0]}` : os;
  const seen = new Set<string>();
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of para.split('\n')) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):\s?(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    const pkg = fields.get('package');
    if (!pkg) continue;
    if (!/\binstalled$/.test(fields.get('status') ?? '')) continue;
    const version = fields.get('version');
    if (!version) {
      out.unsupported.push(`${pkg}: no Version`);
      continue;
    }
    const src = fields.get('source');
    let name = pkg;
    let ver = version;
    if (src) {
      const sm = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(src);
      if (sm) {
        name = sm[1]!;
        if (sm[2]) ver = sm[2];
      }
    }
    const key = `${name}@${ver}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.components.push({ name, version: ver, ecosystem: eco });
  }
  if (out.components.length === 0 && !/^Package:/m.test(text))
    throw new InventoryError('not a dpkg status file (no Package: fields)');
  return out;
}

/** One CPE 2.3 (or 2.2 URI) name per line. */
export function parseCpeList(text: string): Inventory {
  const out: Inventory = { format: 'cpe-list', components: [], unsupported: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const c = parseCpe(line);
    if (!c) {
      out.unsupported.push(`line ${i + 1}: not a CPE name: ${line.slice(0, 80)}`);
      return;
    }
    out.components.push({
      name: `${c.vendor}:${c.product}`,
      version: c.version,
      ecosystem: 'CPE',
      cpe: line,
    });
  });
  return out;
}

/**
 * Pick the parser from the content (and the file name as a hint).
 * `toml` parses poetry.lock; it is passed in so core stays free of IO and heavy deps.
 */
export function parseInventory(
  name: string,
  text: string,
  toml: (s: string) => unknown,
): Inventory {
  const base = name.split('/').pop() ?? name;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new InventoryError(`malformed JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!isObj(doc)) throw new InventoryError('JSON inventory is not an object');
    if (doc.bomFormat === 'CycloneDX') return parseCycloneDx(doc);
    if (typeof doc.spdxVersion === 'string') return parseSpdx(doc);
    if ('lockfileVersion' in doc) return parsePackageLock(doc);
    throw new InventoryError(
      'unrecognised JSON inventory (expected CycloneDX, SPDX 2.3 or package-lock)',
    );
  }
  if (base === 'poetry.lock' || /^\[\[package\]\]/m.test(text)) {
    let doc: unknown;
    try {
      doc = toml(text);
    } catch (err) {
      throw new InventoryError(`malformed TOML: ${(err as Error).message.split('\n')[0]}`);
    }
    return parsePoetryLock(doc as Obj);
  }
  if (/^Package:/m.test(text) && /^Status:/m.test(text)) return parseDpkgStatus(text);
  if (/^\s*cpe:(2\.3:|\/)/i.test(trimmed)) return parseCpeList(text);
  if (
    /requirements.*\.txt$/i.test(base) ||
    /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*==/m.test(text) ||
    looksLikeRequirements(text)
  )
    return parseRequirements(text);
  if (trimmed.startsWith('<'))
    throw new InventoryError('XML inventories are not supported (use CycloneDX or SPDX JSON)');
  throw new InventoryError('unrecognised inventory format');
}
