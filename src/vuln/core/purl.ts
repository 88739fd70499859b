/**
 * Package URLs (purl spec) → the OSV ecosystem and package name we store, and back.
 * Not a full purl validator: enough to route a component to the right version order.
 */

export interface Purl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
}

/** @example parsePurl('pkg:pypi/django@4.2.1')?.name === 'django' */
export function parsePurl(s: string): Purl | undefined {
  const m = /^pkg:([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#]+?)(?:@([^?#]+))?(?:\?([^#]*))?(?:#.*)?$/.exec(
    s.trim(),
  );
  if (!m) return undefined;
  const path = m[2]!.split('/').map((p) => decodeURIComponent(p));
  const name = path.pop();
  if (!name) return undefined;
  const qualifiers: Record<string, string> = {};
  for (const kv of (m[4] ?? '').split('&')) {
    const [k, v] = kv.split('=');
    if (k && v !== undefined) qualifiers[k.toLowerCase()] = decodeURIComponent(v);
  }
  const p: Purl = { type: m[1]!.toLowerCase(), name, qualifiers };
  if (path.length) p.namespace = path.join('/');
  if (m[3]) p.version = decodeURIComponent(m[3]);
  return p;
}

/**
 * The OSV ecosystem and package name a purl stands for, or undefined for types we do not map.
 * @example purlToOsv(parsePurl('pkg:maven/org.apache/log4j@1')!) → { ecosystem: 'Maven', name: 'org.apache:log4j' }
 */
export function purlToOsv(p: Purl): { ecosystem: string; name: string } | undefined {
  const ns = p.namespace;
  switch (p.type) {
    case 'pypi':
      return { ecosystem: 'PyPI', name: p.name };
    case 'npm':
      return { ecosystem: 'npm', name: ns ? `${ns}/${p.name}` : p.name };
    case 'maven':
      return { ecosystem: 'Maven', name: ns ? `${ns}:${p.name}` : p.name };
    case 'gem':
      return { ecosystem: 'RubyGems', name: p.name };
    case 'golang':
      return { ecosystem: 'Go', name: ns ? `${ns}/${p.name}` : p.name };
    case 'cargo':
      return { ecosystem: 'crates.io', name: p.name };
    case 'deb': {
      const distro = p.qualifiers.distro ?? '';
      const os = (ns ?? 'debian').toLowerCase() === 'ubuntu' ? 'Ubuntu' : 'Debian';
      const rel = /(\d+(?:\.\d+)?)/.exec(distro)?.[1];
      return {
        ecosystem: rel && os === 'Debian' ? `Debian:${rel.split('.')[0]}` : os,
        name: p.name,
      };
    }
    case 'apk':
      return { ecosystem: 'Alpine', name: p.name };
    case 'rpm':
      return { ecosystem: (ns ?? '').toLowerCase() === 'suse' ? 'SUSE' : 'Red Hat', name: p.name };
    default:
      return undefined;
  }
}

const TYPE_OF: Record<string, string> = {
  pypi: 'pypi',
  npm: 'npm',
  maven: 'maven',
  rubygems: 'gem',
  go: 'golang',
  'crates.io': 'cargo',
  debian: 'deb',
  ubuntu: 'deb',
  alpine: 'apk',
};

/** A purl for a component we found without one. */
export function osvToPurl(ecosystem: string, name: string, version: string): string | undefined {
  const fam = ecosystem.split(':')[0]!.toLowerCase();
  const type = TYPE_OF[fam];
  if (!type) return undefined;
  const enc = (s: string) => encodeURIComponent(s).replace(/%40/g, '@');
  let path = enc(name);
  if (type === 'maven' && name.includes(':')) {
    const [g, a] = name.split(':');
    path = `${enc(g!)}/${enc(a!)}`;
  } else if (type === 'npm' && name.startsWith('@')) {
    const [scope, n] = name.split('/');
    path = `${enc(scope!)}/${enc(n ?? '')}`.replace(/^%40/, '%40');
  } else if (type === 'deb') path = `${fam}/${enc(name)}`;
  else if (type === 'apk') path = `alpine/${enc(name)}`;
  return `pkg:${type}/${path}@${enc(version)}`;
}
