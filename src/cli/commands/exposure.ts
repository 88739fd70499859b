/** `mamori exposure …` verbs. Owned by the exposure area. They parse, call the area, and print. */
import { MamoriError, notImplemented } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, CommandContext, VerbSpec } from '../types.js';

const scope: VerbSpec = {
  summary: 'declare the ranges you own: scope add|list|remove',
  usage:
    'mamori exposure scope add <cidr> --owner <text> [--allow-credentials] | scope list | scope remove <cidr>',
  examples: [
    'mamori exposure scope add 192.0.2.0/24 --owner "home lab" --allow-credentials',
    'mamori exposure scope list --json',
    'mamori exposure scope remove 192.0.2.0/24',
  ],
  description:
    'Every scan and audit target must lie inside a declared range; anything else is refused\n(E_SCOPE, exit 4) before a packet is sent. Multicast and broadcast are never in scope.',
  options: {
    owner: { type: 'string', value: '<text>', description: 'who owns or authorised the range' },
    'allow-credentials': {
      type: 'boolean',
      description: 'allow audit-credentials to try factory-default passwords here',
    },
  },
  positionals: { min: 1, max: 2, name: 'add|list|remove [<cidr>]' },
  async run(ctx, { values, positionals }) {
    const [sub, cidr] = positionals;
    const ex = await import('../../exposure/index.js');
    const store = await ctx.store();
    if (sub === 'add') {
      if (!cidr) throw new MamoriError('E_USAGE', 'scope add needs a <cidr>');
      if (typeof values.owner !== 'string') {
        throw new MamoriError('E_USAGE', 'scope add needs --owner <text>', {
          hint: 'mamori exposure scope add 192.0.2.0/24 --owner "ops team"',
        });
      }
      const row = await ex.addScope(store, {
        cidr,
        owner: values.owner,
        allowCredentials: values['allow-credentials'] === true,
      });
      ctx.print(
        row,
        () =>
          `in scope: ${row.cidr} (owner ${row.owner}${row.allowCredentials ? ', credential audit allowed' : ''})`,
      );
      return 0;
    }
    if (sub === 'list') {
      const rows = await ex.listScope(store);
      ctx.print(rows, () =>
        rows.length === 0
          ? 'no scope declared; mamori exposure scope add <cidr> --owner <you>'
          : formatTable(
              ['cidr', 'owner', 'credentials', 'added'],
              rows.map((r) => [r.cidr, r.owner, r.allowCredentials ? 'yes' : 'no', r.createdAt]),
            ),
      );
      return 0;
    }
    if (sub === 'remove') {
      if (!cidr) throw new MamoriError('E_USAGE', 'scope remove needs a <cidr>');
      await ex.removeScope(store, cidr);
      ctx.print({ removed: cidr }, () => `removed ${cidr} from the scope`);
      return 0;
    }
    throw new MamoriError('E_USAGE', `unknown scope sub-command '${sub}'`, {
      hint: 'use scope add|list|remove',
    });
  },
};

function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(String(v));
  if (!m) throw new MamoriError('E_USAGE', `--${name}: not a number: ${String(v)}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

function fingerprintsDir(ctx: CommandContext, v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return ctx.config.getString('exposure.fingerprints');
}

const scan: VerbSpec = {
  summary: 'scan targets in scope: TCP connect discovery, banners, fingerprints',
  usage:
    'mamori exposure scan <targets…> [--ports camera|top100|<list>] [--rate <pps>] [--concurrency <n>] [--per-host <n>] [--timeout <ms>] [--retries <n>] [--fingerprints <dir>] [--udp] [--resume <scan>]',
  examples: [
    'mamori exposure scan 192.0.2.0/24 --ports camera',
    'mamori exposure scan 192.0.2.10 --ports 22,80,554,8000-8100 --fingerprints ~/src/recog/xml --json',
    'mamori exposure scan --resume 3',
  ],
  description:
    "Targets must be inside the declared scope (mamori exposure scope add); anything else is\nrefused before a packet is sent. Defaults: --rate 2000 connections/s, --concurrency 512,\n--per-host 16, --timeout 1500 ms, --retries 1. Recog XML databases come from --fingerprints\nor the config key exposure.fingerprints; Mamori's camera/DVR/router set is always used.",
  options: {
    ports: {
      type: 'string',
      value: '<list>',
      description: 'camera (default), top100, 1-65535 or a list',
    },
    rate: { type: 'string', value: '<pps>', description: 'connection attempts per second' },
    concurrency: { type: 'string', value: '<n>', description: 'connections open at once in total' },
    'per-host': { type: 'string', value: '<n>', description: 'connections open at once per host' },
    timeout: {
      type: 'string',
      value: '<ms>',
      description: 'connect and read timeout (e.g. 1500 or 2s)',
    },
    retries: { type: 'string', value: '<n>', description: 'retries after a timeout' },
    fingerprints: { type: 'string', value: '<dir>', description: 'Recog XML databases directory' },
    udp: {
      type: 'boolean',
      description: 'also probe live hosts with unicast SSDP and WS-Discovery',
    },
    'discovery-only': { type: 'boolean', description: 'find open ports only, no banner grabs' },
    resume: { type: 'string', value: '<scan>', description: 'resume an interrupted scan' },
    syn: {
      type: 'boolean',
      description: 'raw-socket SYN scan, IPv4 (needs CAP_NET_RAW; exit 3 without it)',
    },
    distribute: {
      type: 'boolean',
      description: 'queue the scan as shards for mamori worker processes (PostgreSQL store)',
    },
    'shard-size': {
      type: 'string',
      value: '<n>',
      description: 'addresses per shard with --distribute (default 1024)',
    },
    lease: {
      type: 'string',
      value: '<s>',
      description: 'seconds a worker holds a shard before another may retry it (default 600)',
    },
    'probe-range': {
      type: 'string',
      value: '<a:b>',
      description: "only probes a…b-1 of the scan's order (one shard; set by --distribute)",
    },
  },
  positionals: { min: 0, name: 'targets…' },
  async run(ctx, { values, positionals }) {
    if (values.syn === true && values.distribute === true)
      throw notImplemented('exposure scan --syn --distribute (SYN shards for workers)');
    if (values.distribute === true) {
      const { distributeScan } = await import('./exposure-distribute.js');
      return distributeScan(ctx, positionals, values);
    }
    const ex = await import('../../exposure/index.js');
    const store = await ctx.store();
    const resume = values.resume === undefined ? undefined : num(values.resume, 'resume');
    if (resume === undefined && positionals.length === 0) {
      throw new MamoriError(
        'E_USAGE',
        'scan needs targets (CIDRs or addresses) or --resume <scan>',
      );
    }
    const fp = fingerprintsDir(ctx, values.fingerprints);
    const engine = ex.loadEngine(fp);
    const req: Parameters<typeof ex.runScan>[0] = {
      targets: positionals,
      ports: ex.parsePorts(typeof values.ports === 'string' ? values.ports : 'camera'),
      udp: values.udp === true,
      grab: values['discovery-only'] !== true,
      ...(values.syn === true ? { syn: true } : {}),
    };
    const opt = (k: 'rate' | 'concurrency' | 'perHost' | 'timeoutMs' | 'retries', flag: string) => {
      const v = num(values[flag], flag);
      if (v !== undefined) req[k] = v;
    };
    opt('rate', 'rate');
    opt('concurrency', 'concurrency');
    opt('perHost', 'per-host');
    opt('timeoutMs', 'timeout');
    opt('retries', 'retries');
    if (fp) req.fingerprintsDir = fp;
    if (typeof values['probe-range'] === 'string') {
      const m = /^(\d{1,12}):(\d{1,12})$/.exec(values['probe-range']);
      if (!m) throw new MamoriError('E_USAGE', '--probe-range must be <start>:<end>');
      req.probeRange = { start: Number(m[1]), end: Number(m[2]) };
    }
    const progress = ctx.progress('scan');
    const summary = await ex.runScan(req, { store, engine, progress, signal: ctx.signal }, resume);
    ctx.print(summary, () =>
      [
        `scan ${summary.scan}: ${summary.status}, ${summary.probes} probes in ${summary.seconds.toFixed(1)} s, ${summary.open.length} open`,
        summary.open.length
          ? formatTable(
              ['ip', 'port', 'transport', 'protocol', 'vendor', 'product'],
              summary.open.map((o) => [o.ip, o.port, o.transport, o.protocol, o.vendor, o.product]),
            )
          : '',
      ].join('\n'),
    );
    if (summary.status === 'interrupted') {
      ctx.io.stderr(
        `scan ${summary.scan} interrupted; continue with: mamori exposure scan --resume ${summary.scan}\n`,
      );
      return 130;
    }
    return 0;
  },
};

const searchVerb: VerbSpec = {
  summary: 'search stored services, Shodan/Censys style',
  usage: "mamori exposure search '<query>' [--facet port,product,…] [--limit <n>] [--json]",
  examples: [
    "mamori exposure search 'port:554 has_auth:false'",
    'mamori exposure search \'product:"IP Camera" -port:22 net:192.0.2.0/24\' --facet vendor,port --json',
    "mamori exposure search '(title:login OR http.status:401) after:2026-01-01'",
  ],
  description:
    'Fields: port transport protocol product vendor version device cpe title has_auth net ip\nhttp.status ssl.cert.subject.cn after before. Bare words and "quoted phrases" search banner\ntext. AND (or juxtaposition), OR, NOT / -field:value, parentheses. * is a wildcard in values.',
  options: {
    facet: { type: 'string', value: '<fields>', description: 'comma-separated fields to count' },
    limit: { type: 'string', value: '<n>', description: 'most matches returned (default 100)' },
  },
  positionals: { min: 0, max: 1, name: 'query' },
  async run(ctx, { values, positionals }) {
    const ex = await import('../../exposure/index.js');
    const store = await ctx.store();
    const facets =
      typeof values.facet === 'string'
        ? values.facet
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : [];
    const limit = num(values.limit, 'limit');
    const r = await ex.search(store, positionals[0] ?? '', {
      facets,
      ...(limit !== undefined ? { limit } : {}),
    });
    ctx.print(r, () => {
      const out = [
        r.total_relation === 'gte'
          ? `more than ${r.total.toLocaleString('en')} matches (counting stopped there; facets over ${r.facets_over.toLocaleString('en')})`
          : `${r.total} match${r.total === 1 ? '' : 'es'}`,
        r.matches.length
          ? formatTable(
              [
                'ip',
                'port',
                'proto',
                'vendor',
                'product',
                'version',
                'title',
                'auth',
                'findings',
                'seen',
              ],
              r.matches.map((m) => [
                m.ip,
                `${m.port}/${m.transport}`,
                m.protocol,
                m.vendor,
                m.product,
                m.version,
                m.title,
                m.auth_required === null ? '?' : m.auth_required ? 'yes' : 'NO',
                m.findings.join(','),
                m.seen,
              ]),
            )
          : '',
      ];
      for (const [f, list] of Object.entries(r.facets)) {
        out.push(
          '',
          `facet ${f}:`,
          formatTable(
            ['value', 'count'],
            list.map((x) => [x.value === null ? '(none)' : String(x.value), x.count]),
          ),
        );
      }
      return out.join('\n');
    });
    return 0;
  },
};

const audit: VerbSpec = {
  summary: 'default-credential audit of scanned services (only --allow-credentials ranges)',
  usage:
    'mamori exposure audit-credentials [<targets…>] [--max-attempts <n>] [--backoff <ms>] [--timeout <ms>] [--fail-on-findings] [--json]',
  examples: [
    'mamori exposure audit-credentials 192.0.2.0/24',
    'mamori exposure audit-credentials --json',
  ],
  description:
    "For services found by earlier scans, inside ranges added with --allow-credentials: is auth\nrequired at all (no-auth: only a 200 with content; a login redirect, form, 401 or 403 is not),\nthe documented unauthenticated camera paths and the Hikvision CVE-2017-7921 bypass by status\nonly (unauthenticated-path, auth-bypass), then a deliberately wrong printable password as a\ncontrol (weak-auth-control-failed; an unclear answer makes the verdict unknown), then only the\ndocumented factory defaults of the fingerprinted vendor plus nmap's http-default-accounts\nentries when nmap is installed (default-credentials), stopping at the first success. HTTP and\nRTSP DESCRIBE only: no video frame is ever fetched. Passwords are never stored or printed.",
  options: {
    'max-attempts': { type: 'string', value: '<n>', description: 'attempts per host (default 4)' },
    backoff: {
      type: 'string',
      value: '<ms>',
      description: 'first pause between attempts on a host (default 250)',
    },
    timeout: { type: 'string', value: '<ms>', description: 'per request (default 3000)' },
    'fail-on-findings': { type: 'boolean', description: 'exit 1 when there is any finding' },
  },
  positionals: { min: 0, name: 'targets…' },
  async run(ctx, { values, positionals }) {
    const ex = await import('../../exposure/index.js');
    const store = await ctx.store();
    const o: Parameters<typeof ex.auditCredentials>[2] = {};
    const m = num(values['max-attempts'], 'max-attempts');
    if (m !== undefined) o.maxAttemptsPerHost = m;
    const b = num(values.backoff, 'backoff');
    if (b !== undefined) o.backoffMs = b;
    const t = num(values.timeout, 'timeout');
    if (t !== undefined) o.timeoutMs = t;
    const r = await ex.auditCredentials(store, positionals, o);
    ctx.print(r, () =>
      [
        `audited ${r.services} service(s) in ${r.targets.join(', ')}: ${r.findings.length} finding(s), ${r.attempts} login attempt(s)`,
        r.findings.length
          ? formatTable(
              ['ip', 'port', 'protocol', 'finding', 'detail'],
              r.findings.map((f) => [f.ip, f.port, f.protocol, f.kind, f.detail]),
            )
          : '',
        r.skipped.length
          ? `skipped:\n${formatTable(
              ['ip', 'port', 'reason'],
              r.skipped.map((s) => [s.ip, s.port, s.reason]),
            )}`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return values['fail-on-findings'] === true && r.findings.length > 0 ? 1 : 0;
  },
};

const diff: VerbSpec = {
  summary: 'services that appeared or disappeared between two scans',
  usage: 'mamori exposure diff [--since <scan>] [--until <scan>] [--json]',
  examples: ['mamori exposure diff', 'mamori exposure diff --since 3 --json'],
  options: {
    since: {
      type: 'string',
      value: '<scan>',
      description: 'the earlier scan (default: the one before the latest)',
    },
    until: {
      type: 'string',
      value: '<scan>',
      description: 'the later scan (default: the latest finished)',
    },
  },
  async run(ctx, { values }) {
    const ex = await import('../../exposure/index.js');
    const r = await ex.diffScans(
      await ctx.store(),
      num(values.since, 'since'),
      num(values.until, 'until'),
    );
    ctx.print(r, () =>
      [
        `scan ${r.from} → scan ${r.to}: ${r.appeared.length} appeared, ${r.disappeared.length} disappeared`,
        ...r.appeared.map((x) => `+ ${x.ip}:${x.port}/${x.transport} ${x.protocol ?? ''}`),
        ...r.disappeared.map((x) => `- ${x.ip}:${x.port}/${x.transport} ${x.protocol ?? ''}`),
      ].join('\n'),
    );
    return 0;
  },
};

const importVerb: VerbSpec = {
  summary: 'import nmap XML or masscan JSON results as a scan',
  usage: 'mamori exposure import <nmap.xml|masscan.json> [--json]',
  examples: ['mamori exposure import scan.xml', 'mamori exposure import masscan.json --json'],
  positionals: { min: 1, max: 1, name: 'file' },
  async run(ctx, { positionals }) {
    const { readFileSync } = await import('node:fs');
    const ex = await import('../../exposure/index.js');
    const file = positionals[0]!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new MamoriError('E_INPUT', `cannot read ${file}`, { cause: err });
    }
    const r = await ex.importResults(await ctx.store(), text, file);
    ctx.print(
      r,
      () => `imported ${r.services} open port(s) on ${r.hosts} host(s) as scan ${r.scan}`,
    );
    return 0;
  },
};

const exportVerb: VerbSpec = {
  summary: 'export the current services as json, csv or nmap-xml',
  usage: 'mamori exposure export --format json|csv|nmap-xml [--output <file>]',
  examples: [
    'mamori exposure export --format csv > services.csv',
    'mamori exposure export --format nmap-xml --output services.xml',
  ],
  options: {
    format: { type: 'string', value: '<fmt>', description: 'json, csv or nmap-xml (default json)' },
    output: { type: 'string', value: '<file>', description: 'write to a file instead of stdout' },
  },
  async run(ctx, { values }) {
    const ex = await import('../../exposure/index.js');
    const text = ex.formatExport(
      await ex.exportRows(await ctx.store()),
      typeof values.format === 'string' ? values.format : 'json',
    );
    if (typeof values.output === 'string') {
      const { writeFileAtomic } = await import('../../shared/files.js');
      writeFileAtomic(values.output, text);
    } else ctx.io.stdout(text);
    return 0;
  },
};

export const area: AreaSpec = {
  name: 'exposure',
  summary: 'scan and index your own address ranges: banners, fingerprints, default passwords',
  verbs: {
    scope,
    scan,
    'audit-credentials': audit,
    search: searchVerb,
    diff,
    import: importVerb,
    export: exportVerb,
  },
};
