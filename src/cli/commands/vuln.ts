/** `mamori vuln …` verbs: thin shells over src/vuln/index.ts. Owned by the vuln area. */
import { readFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, CommandContext } from '../types.js';

const SOURCES = ['jvn', 'nvd', 'osv', 'all'] as const;
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const FORMATS = ['table', 'json', 'sarif', 'cyclonedx-vex'];
const OSV_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function toIsoDate(s: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(ms))
    throw new MamoriError('E_USAGE', `--since: not a date: ${s}`, {
      hint: 'YYYY-MM-DD or an ISO-8601 time',
    });
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readInput(path: string, ctx: CommandContext): string {
  let bytes: Buffer;
  try {
    bytes = path === '-' ? readFileSync(0) : readFileSync(path);
  } catch (err) {
    throw new MamoriError(
      'E_INPUT',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  void ctx;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MamoriError('E_INPUT', `${path}: not valid UTF-8 (wrong encoding?)`, {
      hint: 'convert the file to UTF-8 first (iconv -f <encoding> -t utf-8)',
    });
  }
}

/**
 * An OSV range's events as the versions they take in: `< 2.2.5; >= 2.3.0, < 2.3.2`.
 * @example rangeSpan([{ introduced: '0' }, { fixed: '1.2' }]) === '< 1.2'
 */
function rangeSpan(events: { introduced?: string; fixed?: string; last_affected?: string }[]) {
  const spans: string[] = [];
  let from: string | undefined;
  for (const e of events) {
    if (e.introduced !== undefined) from = e.introduced;
    else if (from !== undefined && (e.fixed !== undefined || e.last_affected !== undefined)) {
      const to = e.fixed !== undefined ? `< ${e.fixed}` : `<= ${e.last_affected}`;
      spans.push(from === '0' ? to : `>= ${from}, ${to}`);
      from = undefined;
    }
  }
  if (from !== undefined) spans.push(from === '0' ? 'all versions' : `>= ${from}`);
  return spans.join('; ') || 'none';
}

export const area: AreaSpec = {
  name: 'vuln',
  summary: 'vulnerability database (JVN iPedia, NVD, OSV), IPA-style stats, inventory checks',
  verbs: {
    sync: {
      summary: 'download or import advisories into the store',
      usage:
        'mamori vuln sync [--source jvn|nvd|osv|all] [--from <file|dir|zip|gz|url>] [--since <date>]',
      description:
        'Streams records one at a time into batched, transactional upserts: re-running is\nidempotent (and resumes an interrupted run). Malformed records are listed with file and\nposition; the good ones land. Aliases (JVNDB, CVE, GHSA, PYSEC) merge into one entry.\n\nJVN online reads the yearly feeds listed in https://jvndb.jvn.jp/ja/feed/checksum.txt and\ndownloads only the files whose sha256 changed since the last run (MAMORI_JVN_FEED_URL\noverrides the feed site). --from <dir|url/> with a checksum.txt does the same from a mirror.\nThe MyJVN API is used with --api myjvn, or when --since is given without --api.',
      examples: [
        'mamori vuln sync --source osv --from ./advisory-database/vulns',
        'mamori vuln sync --source osv --from PyPI-all.zip --json',
        'mamori vuln sync --source jvn',
        'mamori vuln sync --source jvn --from /srv/mirror/jvndb.jvn.jp',
        'mamori vuln sync --source jvn --api myjvn --since 2025-04-01',
      ],
      options: {
        source: {
          type: 'string',
          value: '<jvn|nvd|osv|all>',
          description: 'which source',
          default: 'osv',
        },
        from: {
          type: 'string',
          value: '<file|dir|zip|gz|url>',
          description: 'local mirror or URL instead of the online default',
        },
        since: {
          type: 'string',
          value: '<date>',
          description:
            'only records modified on or after this date (NVD online: lastModStartDate; JVN online: MyJVN unless --api feeds)',
        },
        api: {
          type: 'string',
          value: '<feeds|myjvn>',
          description:
            'JVN online: yearly feeds by checksum.txt (default) or the MyJVN API (default with --since)',
        },
        'jvn-feed': {
          type: 'string',
          value: '<overview|detail>',
          description:
            'JVN feeds: jvndb_YYYY.rdf overviews and the recent feeds (default) or jvndb_detail_YYYY.rdf',
        },
        ecosystem: {
          type: 'string',
          multiple: true,
          value: '<name>',
          description:
            'OSV ecosystems to download online (default PyPI, npm; MAMORI_OSV_URL: a mirror)',
        },
        'batch-size': {
          type: 'string',
          value: '<n>',
          description: 'records per transaction (default 1000)',
        },
      },
      async run(ctx, { values }) {
        const source = str(values.source) ?? 'osv';
        if (!(SOURCES as readonly string[]).includes(source))
          throw new MamoriError('E_USAGE', `--source must be one of ${SOURCES.join('|')}`);
        const batchSize =
          values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
        if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1))
          throw new MamoriError('E_USAGE', '--batch-size must be a positive integer');
        const { syncFrom } = await import('../../vuln/index.js');
        const store = await ctx.store();
        const from = str(values.from);
        const plans: { source: 'osv' | 'nvd' | 'jvn'; from: string }[] = [];
        const sources =
          source === 'all' ? (['osv', 'nvd', 'jvn'] as const) : [source as 'osv' | 'nvd' | 'jvn'];
        for (const s of sources) {
          if (from) plans.push({ source: s, from });
          else if (s === 'osv') {
            const ecos = (values.ecosystem as string[] | undefined) ?? ['PyPI', 'npm'];
            // MAMORI_OSV_URL: a mirror of the OSV bucket (same layout: <ecosystem>/all.zip).
            const base = (ctx.io.env.MAMORI_OSV_URL ?? OSV_BASE).replace(/\/+$/, '');
            for (const e of ecos)
              plans.push({ source: 'osv', from: `${base}/${encodeURIComponent(e)}/all.zip` });
          } else plans.push({ source: s, from: '' });
        }
        const sinceGiven = str(values.since) !== undefined;
        const jvnApi = str(values.api) ?? (sinceGiven && !from ? 'myjvn' : 'feeds');
        if (!['feeds', 'myjvn'].includes(jvnApi))
          throw new MamoriError('E_USAGE', '--api must be feeds or myjvn');
        if (jvnApi === 'myjvn' && from)
          throw new MamoriError('E_USAGE', '--api myjvn reads the MyJVN API online; drop --from');
        const jvnFeed = str(values['jvn-feed']) ?? 'overview';
        if (!['overview', 'detail'].includes(jvnFeed))
          throw new MamoriError('E_USAGE', '--jvn-feed must be overview or detail');
        const feedNotes: string[] = [];
        const summaries = [];
        for (const plan of plans) {
          const progress = ctx.progress(`sync ${plan.source}`);
          let s: Awaited<ReturnType<typeof syncFrom>>;
          const jvnFeeds =
            plan.source === 'jvn' &&
            jvnApi === 'feeds' &&
            (plan.from === '' ||
              (await import('../../vuln/jvn-feed.js')).isJvnFeedLocation(plan.from));
          if (plan.source === 'jvn' && jvnApi === 'myjvn') {
            const { syncJvnOnline } = await import('../../vuln/jvn-sync.js');
            const sinceRaw = str(values.since);
            s = await syncJvnOnline(store, {
              ...(ctx.io.env.MAMORI_MYJVN_URL ? { baseUrl: ctx.io.env.MAMORI_MYJVN_URL } : {}),
              ...(sinceRaw ? { since: toIsoDate(sinceRaw).slice(0, 10) } : {}),
              progress,
              signal: ctx.signal,
            });
          } else if (jvnFeeds) {
            const { syncJvnFeeds, JVN_FEED_INDEX } = await import('../../vuln/jvn-feed.js');
            const sinceRaw = str(values.since);
            const f = await syncJvnFeeds(store, {
              from: plan.from || ctx.io.env.MAMORI_JVN_FEED_URL || JVN_FEED_INDEX,
              kind: jvnFeed as 'overview' | 'detail',
              ...(batchSize ? { batchSize } : {}),
              ...(sinceRaw ? { since: toIsoDate(sinceRaw) } : {}),
              progress,
              signal: ctx.signal,
            });
            feedNotes.push(
              `jvn feeds: ${f.feeds.filter((x) => x.status === 'fetched').length} of ${f.feeds.length} files changed`,
            );
            s = f;
          } else if (plan.source === 'nvd' && plan.from === '') {
            const { syncNvdOnline } = await import('../../vuln/nvd-sync.js');
            const keyText = ctx.io.env.NVD_API_KEY;
            const apiKey = keyText ? new TextEncoder().encode(keyText) : undefined;
            try {
              s = await syncNvdOnline(store, {
                ...(ctx.io.env.MAMORI_NVD_URL ? { baseUrl: ctx.io.env.MAMORI_NVD_URL } : {}),
                ...(apiKey ? { apiKey } : {}),
                ...(str(values.since) ? { since: str(values.since)! } : {}),
                progress,
                signal: ctx.signal,
              });
            } finally {
              apiKey?.fill(0);
            }
          } else {
            const sinceRaw = str(values.since);
            const since = sinceRaw ? toIsoDate(sinceRaw) : undefined;
            s = await syncFrom(store, {
              ...plan,
              ...(batchSize ? { batchSize } : {}),
              progress,
              signal: ctx.signal,
              ...(since ? { since } : {}),
            });
          }
          progress.done();
          summaries.push(s);
          if (!ctx.json)
            for (const e of s.errors)
              ctx.io.stderr(
                `mamori: ${e.file}${e.position ? `: ${e.position}` : ''}: ${e.message}\n`,
              );
        }
        const total = summaries.reduce(
          (t, s) => ({
            records: t.records + s.records,
            added: t.added + s.added,
            updated: t.updated + s.updated,
            unchanged: t.unchanged + s.unchanged,
            withdrawn: t.withdrawn + s.withdrawn,
            errors: t.errors + s.errors.length,
          }),
          { records: 0, added: 0, updated: 0, unchanged: 0, withdrawn: 0, errors: 0 },
        );
        ctx.print(
          summaries.length === 1 ? summaries[0] : { sources: summaries, ...total },
          () =>
            `${total.records} records: ${total.added} added, ${total.updated} updated, ${total.unchanged} unchanged, ${total.withdrawn} withdrawn, ${total.errors} malformed${feedNotes.map((n) => `\n${n}`).join('')}`,
        );
        if (total.records === 0 && total.errors > 0) {
          throw new MamoriError('E_INPUT', 'no usable record in the input', {
            hint: 'see the errors above',
          });
        }
        return 0;
      },
    },
    show: {
      summary: 'show one vulnerability by any alias (CVE, GHSA, PYSEC, JVNDB …)',
      usage: 'mamori vuln show <ID> [--json]',
      examples: ['mamori vuln show CVE-2021-44228', 'mamori vuln show JVNDB-2017-009608 --json'],
      positionals: { min: 1, max: 1, name: 'ID' },
      async run(ctx, { positionals }) {
        const { describePlatformClause, lookup } = await import('../../vuln/index.js');
        const id = positionals[0]!;
        const d = await lookup(await ctx.store(), id);
        if (!d)
          throw new MamoriError('E_NOT_FOUND', `${id}: not in the store`, {
            hint: 'run mamori vuln sync first, or check the id',
          });
        ctx.print(d, () => {
          const lines = [
            `${d.id}${d.aliases.length ? ` (${d.aliases.join(', ')})` : ''}`,
            `severity: ${d.severity ?? 'unknown'}`,
          ];
          for (const r of d.records) {
            lines.push(
              '',
              `[${r.source} ${r.id}]${r.withdrawn ? ` WITHDRAWN ${r.withdrawn}` : ''}`,
            );
            if (r.titleJa) lines.push(`  title (ja): ${r.titleJa}`);
            if (r.title) lines.push(`  title: ${r.title}`);
            if (r.descriptionJa) lines.push(`  description (ja): ${r.descriptionJa}`);
            if (r.description)
              lines.push(`  description: ${r.description.trim().replace(/\s*\n\s*/g, ' ')}`);
            if (r.published) lines.push(`  published: ${r.published}`);
            if (r.registered) lines.push(`  registered: ${r.registered}`);
            if (r.cvss.v4) lines.push(`  CVSS v4: ${r.cvss.v4}`);
            if (r.cvss.v3) lines.push(`  CVSS v3: ${r.cvss.v3}`);
            if (r.cvss.v2) lines.push(`  CVSS v2: ${r.cvss.v2}`);
            if (r.cvss.score !== null) lines.push(`  score: ${r.cvss.score} (${r.severity})`);
            if (r.cwes.length) lines.push(`  CWE: ${r.cwes.join(', ')}`);
            for (const ref of r.references.slice(0, 20))
              lines.push(`  ref ${ref.type}: ${ref.url}`);
          }
          if (d.affected.length) {
            // One block per package, one line per range, nothing cut: a GIT range's commits
            // can run to hundreds of characters, and the ecosystem range must stay in view.
            lines.push('', 'affected:');
            for (const a of d.affected) {
              lines.push(`  ${a.ecosystem} ${a.name}${a.purl ? ` (${a.purl})` : ''}`);
              for (const r of a.ranges) {
                const events = r.events
                  .map((e) =>
                    Object.entries(e)
                      .map(([k, val]) => `${k} ${val}`)
                      .join(''),
                  )
                  .join(', ');
                const span = r.type === 'GIT' ? '' : ` = ${rangeSpan(r.events)}`;
                lines.push(`    ${r.type}${r.repo ? ` ${r.repo}` : ''}: ${events}${span}`);
              }
              if (a.versions.length) lines.push(`    versions: ${a.versions.length} listed`);
              lines.push(`    fixed: ${a.fixed.join(', ') || 'no fix yet'}`);
            }
          }
          if (d.cpes.length)
            lines.push(
              '',
              ...d.cpes.map(
                (c) =>
                  `  ${c.cpe} [${c.confidence}]${c.versionEndExcluding ? ` < ${c.versionEndExcluding}` : ''}${c.versionEndIncluding ? ` <= ${c.versionEndIncluding}` : ''}${c.platform ? `\n    running on/with: ${c.platform.map((cl) => describePlatformClause(cl)).join(' | ')}` : ''}`,
              ),
            );
          return lines.join('\n');
        });
        return 0;
      },
    },
    stats: {
      summary: 'IPA-style statistics: registrations by year, quarter or CWE (JST)',
      usage:
        'mamori vuln stats --by year|quarter|cwe [--source jvn] [--from <date>] [--to <date>] [--top N] [--svg <file>]',
      description:
        'Counts records by registration date in JST (VULDEF DateFirstPublished, JVNRSS\ndcterms:issued), not by the year in the identifier. --from/--to are inclusive JST dates.',
      examples: [
        'mamori vuln stats --by quarter --from 2017-01-01 --to 2017-12-31',
        'mamori vuln stats --by cwe --from 2017-10-01 --to 2017-12-31 --top 5 --svg q4.svg',
      ],
      options: {
        by: {
          type: 'string',
          value: '<year|quarter|cwe>',
          description: 'what to count by',
          default: 'year',
        },
        source: {
          type: 'string',
          value: '<jvn|nvd|osv>',
          description:
            'which source (osv/nvd by published date; default jvn when synced, else the largest synced)',
        },
        from: { type: 'string', value: '<YYYY-MM-DD>', description: 'first JST day (inclusive)' },
        to: { type: 'string', value: '<YYYY-MM-DD>', description: 'last JST day (inclusive)' },
        top: { type: 'string', value: '<N>', description: 'only the N largest rows' },
        svg: { type: 'string', value: '<file>', description: 'also write a bar chart' },
      },
      async run(ctx, { values }) {
        const by = str(values.by) ?? 'year';
        if (!['year', 'quarter', 'cwe'].includes(by))
          throw new MamoriError('E_USAGE', '--by must be year, quarter or cwe');
        const asked = str(values.source);
        if (asked !== undefined && !['jvn', 'nvd', 'osv'].includes(asked))
          throw new MamoriError('E_USAGE', '--source must be jvn, nvd or osv');
        let top: number | undefined;
        if (values.top !== undefined) {
          top = Number(values.top);
          if (!Number.isInteger(top) || top < 1)
            throw new MamoriError('E_USAGE', '--top must be a positive integer');
        }
        const v = await import('../../vuln/index.js');
        const result = await v.registrationStats(await ctx.store(), {
          by: by as 'year' | 'quarter' | 'cwe',
          ...(asked ? { source: asked } : {}),
          ...(str(values.from) ? { from: str(values.from)! } : {}),
          ...(str(values.to) ? { to: str(values.to)! } : {}),
          ...(top ? { top } : {}),
        });
        const source = result.source;
        const svgPath = str(values.svg);
        if (svgPath) {
          const { writeFileSync } = await import('node:fs');
          const range = `${str(values.from) ?? '…'} – ${str(values.to) ?? '…'} JST`;
          writeFileSync(
            svgPath,
            v.statsSvg(result.rows, `${source.toUpperCase()} registrations by ${by}, ${range}`),
          );
        }
        const held = result.available.map((a) => `${a.source} (${a.records} records)`).join(', ');
        const empty =
          result.available.length === 0
            ? 'no records: sync a source first (mamori vuln sync --source jvn, nvd or osv)'
            : result.available.some((a) => a.source === source)
              ? `no ${source} records in this range`
              : `no ${source} records: the store holds ${held}; use --source ${result.available[0]!.source}, or mamori vuln sync --source ${source}`;
        ctx.print(result, () =>
          result.rows.length
            ? `${source} records by ${by}${asked ? '' : ` (the store holds ${held})`}\n${formatTable(
                by === 'cwe' ? ['CWE', 'count', 'name'] : [by, 'count'],
                result.rows.map((r) =>
                  by === 'cwe' ? [r.key, r.count, r.name ?? ''] : [r.key, r.count],
                ),
              )}`
            : empty,
        );
        return 0;
      },
    },
    check: {
      summary: 'match an inventory (SBOM, lockfile, dpkg status, CPE list) against the store',
      usage:
        'mamori vuln check <inventory...> [--fail-on low|medium|high|critical] [--unknown-severity fail|ignore] [--allow-uncovered] [--format table|json|sarif|cyclonedx-vex] [--no-record] | --host',
      description:
        'Inventories: CycloneDX JSON 1.4–1.6, SPDX JSON 2.3, package-lock.json v2/v3, pinned\nrequirements.txt, poetry.lock, /var/lib/dpkg/status, a list of CPE 2.3 names.\nEvery result says which ecosystems synced advisories cover (source, sync time); a component\nwhose ecosystem has none is NOT COVERED. With --fail-on: exit 1 when a finding reaches it or\nhas unknown severity (unless --unknown-severity ignore), else exit 3 when any component or line\nwas not checked (unless --allow-uncovered). Each run and its findings are recorded (the newest is\nthe "last check" the bulletin reads); --no-record leaves the store untouched.',
      examples: [
        'mamori vuln check requirements.txt --fail-on high',
        'mamori vuln check --host --format sarif',
      ],
      positionals: { min: 0, name: 'inventory' },
      options: {
        'fail-on': {
          type: 'string',
          value: '<severity>',
          description: 'exit 1 at or above low|medium|high|critical',
        },
        format: {
          type: 'string',
          value: '<fmt>',
          description: 'table|json|sarif|cyclonedx-vex (--json = json)',
        },
        host: {
          type: 'boolean',
          description: "this machine's dpkg database (/var/lib/dpkg/status)",
        },
        'no-record': {
          type: 'boolean',
          description: 'read-only: do not record this run as the last check',
        },
        'allow-uncovered': {
          type: 'boolean',
          description:
            '--fail-on passes an inventory with components no synced advisories cover (default: exit 3)',
        },
        'unknown-severity': {
          type: 'string',
          value: '<fail|ignore>',
          description:
            'a finding of unknown severity fails --fail-on (default) or is ignored by it',
        },
      },
      async run(ctx, { values, positionals }) {
        const failOn = str(values['fail-on']);
        if (failOn && !SEVERITIES.includes(failOn))
          throw new MamoriError('E_USAGE', `--fail-on must be one of ${SEVERITIES.join('|')}`);
        const format = str(values.format) ?? (ctx.json ? 'json' : 'table');
        if (!FORMATS.includes(format))
          throw new MamoriError('E_USAGE', `--format must be one of ${FORMATS.join('|')}`);
        const unknownSeverity = str(values['unknown-severity']) ?? 'fail';
        if (unknownSeverity !== 'fail' && unknownSeverity !== 'ignore')
          throw new MamoriError('E_USAGE', '--unknown-severity must be fail or ignore');
        if (!values.host && positionals.length === 0)
          throw new MamoriError('E_USAGE', 'give an inventory file or --host', {
            hint: 'mamori vuln check requirements.txt',
          });
        const v = await import('../../vuln/index.js');
        const { parse: parseToml } = await import('smol-toml');
        const components: import('../../vuln/index.js').Component[] = [];
        const unsupported: string[] = [];
        const inputs: { name: string; text: string; host?: boolean }[] = positionals.map((p) => ({
          name: p,
          text: readInput(p, ctx),
        }));
        if (values.host)
          inputs.push({
            name: '/var/lib/dpkg/status',
            text: readInput('/var/lib/dpkg/status', ctx),
            host: true,
          });
        for (const input of inputs) {
          let inv: import('../../vuln/index.js').Inventory;
          try {
            if (input.host) {
              let release: { id: string; version?: string } | undefined;
              try {
                const osr = readFileSync('/etc/os-release', 'utf8');
                const id = /^ID=["']?([^"'\n]+)/m.exec(osr)?.[1];
                const ver = /^VERSION_ID=["']?([^"'\n]+)/m.exec(osr)?.[1];
                if (id) release = ver ? { id, version: ver } : { id };
              } catch {
                release = undefined;
              }
              inv = v.parseDpkgStatus(input.text, release);
            } else inv = v.parseInventory(input.name, input.text, parseToml);
          } catch (err) {
            if (err instanceof v.InventoryError)
              throw new MamoriError('E_INPUT', `${input.name}: ${err.message}`);
            throw err;
          }
          components.push(...inv.components);
          unsupported.push(...inv.unsupported.map((u) => `${input.name}: ${u}`));
        }
        const store = await ctx.store();
        const result = await v.checkComponents(store, components);
        const parseUnsupported = unsupported.length;
        unsupported.push(...result.unsupported);
        if (!values['no-record'])
          await v.recordCheckRun(store, {
            origin: 'cli',
            inventories: inputs.map((i) => i.name),
            components: components.length,
            result,
            unsupported: parseUnsupported,
          });
        if (!ctx.quiet) for (const u of unsupported) ctx.io.stderr(`unsupported: ${u}\n`);
        const findings = result.findings;
        const coverage = result.coverage;
        // Not checked: components in ecosystems no synced advisory covers, and inventory lines
        // that named no checkable component (unpinned, no version, no purl).
        const notChecked = result.notCovered + parseUnsupported;
        const unknown = findings.filter((f) => f.vulnerability.severity === null).length;
        if (format === 'json')
          ctx.io.stdout(
            `${JSON.stringify(
              {
                findings,
                covered: notChecked === 0,
                notCovered: result.notCovered,
                unknownSeverity: unknown,
                coverage,
                unsupported,
              },
              null,
              2,
            )}\n`,
          );
        else if (format === 'sarif')
          ctx.io.stdout(
            `${JSON.stringify(v.toSarif(findings, ctx.version, inputs[0]?.name ?? 'inventory', coverage), null, 2)}\n`,
          );
        else if (format === 'cyclonedx-vex') {
          const { randomUUID } = await import('node:crypto');
          ctx.io.stdout(
            `${JSON.stringify(v.toCycloneDxVex(findings, `urn:uuid:${randomUUID()}`, new Date().toISOString(), coverage), null, 2)}\n`,
          );
        } else {
          const coveredNames = coverage.filter((c) => c.covered).map((c) => c.ecosystem);
          const none = coveredNames.length
            ? `no known vulnerabilities in the covered ecosystems (${coveredNames.join(', ')})`
            : 'NOT CHECKED: no synced advisories cover any ecosystem of this inventory';
          ctx.io.stdout(
            `${
              findings.length
                ? formatTable(
                    [
                      'package',
                      'installed',
                      'vulnerability',
                      'severity',
                      'update to',
                      'confidence',
                      'source',
                    ],
                    findings.map((f) => [
                      f.package.name,
                      f.package.version,
                      [f.vulnerability.id, ...f.vulnerability.aliases].join(' '),
                      f.vulnerability.severity ?? 'unknown',
                      f.fixed.length ? f.fixed.join(', ') : 'no fix yet',
                      f.confidence,
                      f.source,
                    ]),
                  )
                : none
            }\n${coverage
              .map((c) =>
                c.covered
                  ? `coverage: ${c.ecosystem} (${c.components} components) covered by ${c.sources
                      .map(
                        (x) =>
                          `${x.source} ${x.ecosystems.join(', ')}, synced ${x.synced ?? 'before coverage was recorded'}`,
                      )
                      .join('; ')}\n`
                  : `NOT COVERED: ${c.ecosystem} (${c.components} components): ${c.reason}${c.hint ? `; run ${c.hint}` : ''}\n`,
              )
              .join('')}${findings
              .filter((f) => f.conditions)
              .map(
                (f) =>
                  `${f.package.name} ${f.vulnerability.id} (medium): only when running on/with ${f.conditions!.join(' | ')}\n`,
              )
              .join(
                '',
              )}${components.length - result.notCovered} of ${components.length} components checked, ${findings.length} findings (${unknown} of unknown severity), ${result.notCovered} not covered, ${unsupported.length} unsupported\n`,
          );
        }
        if (failOn && v.reachesFailOn(findings, failOn, unknownSeverity)) return 1;
        if (failOn && notChecked > 0 && !values['allow-uncovered']) {
          if (!ctx.quiet)
            ctx.io.stderr(
              `mamori: --fail-on: ${notChecked} components or lines were not checked (not covered or unsupported); --allow-uncovered to pass anyway\n`,
            );
          return 3;
        }
        return 0;
      },
    },
  },
};
