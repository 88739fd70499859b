/** `mamori guard check|test|proxy`: the SecLang engine, the CRS regression suite, the proxy. */
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec } from '../types.js';

const VECTORS_HINT = 'e.g. ../shared/vectors/waf/crs-rules';

export const area: AreaSpec = {
  name: 'guard',
  summary: 'an IPS/WAF: SecLang engine running the OWASP Core Rule Set, regression tests, proxy',
  description:
    'Guard parses and runs ModSecurity rule sets (SecLang) such as the OWASP Core Rule Set,\nwith libinjection-compatible @detectSQLi/@detectXSS written in TypeScript.',
  verbs: {
    check: {
      summary: 'parse a rule set and report what is not supported, with file:line',
      usage: 'mamori guard check --rules <dir> [--json]',
      examples: [`mamori guard check --rules ${VECTORS_HINT}`],
      options: {
        rules: { type: 'string', value: '<dir>', description: 'CRS-style rules directory' },
      },
      async run(ctx, { values }) {
        if (values.rules === undefined) throw new MamoriError('E_USAGE', '--rules is required');
        const guard = await import('../../guard/index.js');
        const r = guard.checkRules(String(values.rules));
        ctx.print(r, () =>
          [
            ...r.issues.map((i) => `${i.file}:${i.line}: ${i.message}`),
            `${r.files} files, ${r.rules} rules, ${r.issues.length} unsupported or broken`,
          ].join('\n'),
        );
        return r.issues.length > 0 ? 1 : 0;
      },
    },
    test: {
      summary: 'run the go-ftw regression tests in process against the engine',
      usage:
        'mamori guard test <crs-regression dir> --rules <dir> [--only <id>] [--overrides <yaml>] [--json]',
      examples: [
        'mamori guard test ../shared/vectors/waf/crs-regression --rules ../shared/vectors/waf/crs-rules',
        'mamori guard test ../shared/vectors/waf/crs-regression --rules ../shared/vectors/waf/crs-rules --only 942100',
      ],
      description:
        'Uses the CRS project settings of its docker-compose file (paranoia 4, DetectionOnly,\nargument and file limits). Response-side tests (95x, 980) are counted as skipped.\nExit 1 when a test fails.',
      options: {
        rules: { type: 'string', value: '<dir>', description: 'CRS-style rules directory' },
        only: {
          type: 'string',
          value: '<id>',
          description: 'a rule id (942100) or test id (942100-3)',
        },
        network: {
          type: 'boolean',
          description: 'send each request over a socket through the guard proxy instead',
        },
        overrides: {
          type: 'string',
          value: '<yaml>',
          description: 'per-engine override file (test_overrides format)',
        },
      },
      positionals: { min: 1, max: 1, name: 'crs-regression dir' },
      async run(ctx, { values, positionals }) {
        if (values.rules === undefined) throw new MamoriError('E_USAGE', '--rules is required');
        const guard = await import('../../guard/index.js');
        if (values.network === true) {
          const results = await guard.runRegressionOverNetwork(
            String(positionals[0]),
            String(values.rules),
            values.only === undefined ? undefined : String(values.only),
          );
          const run = results.filter((r) => r.skipped === undefined);
          const passed = run.filter((r) => r.passed).length;
          ctx.print({ passed, failed: run.length - passed, results }, () =>
            [
              ...results.map(
                (r) =>
                  `${r.id} ${r.skipped ? `SKIP (${r.skipped})` : r.passed ? 'PASS' : `FAIL ${r.reason}`}`,
              ),
              `${passed} passed, ${run.length - passed} failed`,
            ].join('\n'),
          );
          return passed === run.length ? 0 : 1;
        }
        const progress = ctx.progress('guard test');
        const lines: string[] = [];
        const opts: Parameters<typeof guard.runRegression>[1] = {
          rulesDir: String(values.rules),
          onResult(r, done, total) {
            progress.setTotal(total);
            progress.tick(1, r.id);
            if (!ctx.json) {
              const status = r.skipped
                ? `SKIP (${r.skipped})`
                : r.passed
                  ? 'PASS'
                  : `FAIL ${r.reason}`;
              lines.push(`${r.id} ${status}`);
            }
            void done;
          },
        };
        if (values.only !== undefined) opts.only = String(values.only);
        if (values.overrides !== undefined) opts.overridesFile = String(values.overrides);
        const r = guard.runRegression(String(positionals[0]), opts);
        progress.done();
        ctx.print(
          { passed: r.passed, failed: r.failed, skipped: r.skipped, results: r.results },
          () => [...lines, `${r.passed} passed, ${r.failed} failed`].join('\n'),
        );
        return r.failed > 0 ? 1 : 0;
      },
    },
    proxy: {
      summary: 'reverse proxy that runs the rules in front of a web server',
      usage:
        'mamori guard proxy --listen 127.0.0.1:8081 --upstream http://127.0.0.1:3000 --rules <dir> [--mode detect|block] [--paranoia 1-4]',
      examples: [
        'mamori guard proxy --listen 127.0.0.1:8081 --upstream http://127.0.0.1:3000 --rules ./crs --mode block',
      ],
      description:
        'Every match is printed as a JSON line on stdout and stored (read them with\n`mamori guard matches`); blocked requests also raise an alert. Runs until interrupted;\non SIGINT/SIGTERM every accepted match is written before it exits.',
      options: {
        listen: {
          type: 'string',
          value: '<host:port>',
          description: 'address to listen on',
          default: '127.0.0.1:8081',
        },
        upstream: { type: 'string', value: '<url>', description: 'http:// URL of the web server' },
        rules: { type: 'string', value: '<dir>', description: 'CRS-style rules directory' },
        mode: {
          type: 'string',
          value: '<detect|block>',
          description: 'block answers 403 at the threshold',
          default: 'detect',
        },
        paranoia: {
          type: 'string',
          value: '<1-4>',
          description: 'CRS paranoia level',
          default: '1',
        },
        'response-body-limit': {
          type: 'string',
          value: '<bytes>',
          description: 'response body bytes inspected (phase 4); the rest streams on',
          default: '524288',
        },
        webhook: {
          type: 'string',
          multiple: true,
          value: '<url>',
          description: 'POST alerts here too (JSON); default: config guard.webhooks',
        },
      },
      async run(ctx, { values }) {
        if (values.rules === undefined) throw new MamoriError('E_USAGE', '--rules is required');
        if (values.upstream === undefined)
          throw new MamoriError('E_USAGE', '--upstream is required');
        const mode = String(values.mode);
        if (mode !== 'detect' && mode !== 'block') {
          throw new MamoriError('E_USAGE', `--mode must be detect or block, not "${mode}"`);
        }
        const paranoia = Number(values.paranoia);
        if (![1, 2, 3, 4].includes(paranoia))
          throw new MamoriError('E_USAGE', '--paranoia must be 1-4');
        const responseBodyLimit = Number(values['response-body-limit']);
        if (
          !Number.isInteger(responseBodyLimit) ||
          responseBodyLimit < 0 ||
          responseBodyLimit > 64 * 1024 * 1024
        )
          throw new MamoriError('E_USAGE', '--response-body-limit must be 0-67108864 bytes');
        const m = /^(.+):(\d{1,5})$/.exec(String(values.listen));
        if (!m) throw new MamoriError('E_USAGE', '--listen must be host:port');
        const guard = await import('../../guard/index.js');
        const { engine } = guard.loadRules(String(values.rules), {
          paranoia,
          ruleEngine: mode === 'block' ? 'On' : 'DetectionOnly',
        });
        const store = await ctx.store();
        const { createAlertSink } = await import('../../alerts/index.js');
        const webhooks = (
          (values.webhook as string[] | undefined) ??
          ctx.config.get<string[]>('guard.webhooks') ??
          []
        ).map((url) => ({ url }));
        const sink = createAlertSink({ store, write: (l) => ctx.io.stdout(l), webhooks });
        const recorder = new guard.MatchRecorder({
          store,
          onError: (e) =>
            ctx.io.stderr(`mamori: guard matches not stored yet (will retry): ${String(e)}\n`),
        });
        const alerter = new guard.BlockAlerter({
          sink,
          onError: (e) => ctx.io.stderr(`mamori: guard alert not stored: ${String(e)}\n`),
        });
        const proxy = await guard.startProxy({
          listen: { host: m[1] as string, port: Number(m[2]) },
          upstream: String(values.upstream),
          engine,
          mode,
          responseBodyLimit,
          onMatch: (x) => {
            ctx.io.stdout(`${JSON.stringify(x)}\n`);
            recorder.record(x);
          },
          onBlock: (b) => alerter.blocked(b),
        });
        ctx.io.stderr(
          `guard proxy listening on ${m[1]}:${proxy.port} → ${String(values.upstream)} (${mode}); matches to ${store.backend} ${store.display}\n`,
        );
        if (!ctx.signal.aborted) {
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
        }
        await proxy.close();
        await recorder.close();
        await alerter.close();
        if (!ctx.quiet)
          ctx.io.stderr(
            `mamori: guard proxy stopped; ${recorder.stats.written} matches stored${recorder.stats.refused ? `, ${recorder.stats.refused} refused (queue full)` : ''}\n`,
          );
        return 0;
      },
    },
    matches: {
      summary: 'list the matches the proxy stored',
      usage:
        'mamori guard matches [--since <date|24h>] [--rule <id>] [--client <ip>] [--action blocked|logged] [--limit <n>] [--json]',
      examples: [
        'mamori guard matches --since 24h',
        'mamori guard matches --rule 942100 --json',
        'mamori guard matches --client 203.0.113.7 --action blocked',
      ],
      options: {
        since: {
          type: 'string',
          value: '<date|span>',
          description: 'only matches since (2026-12-01, 7d, 12h, 30m)',
        },
        rule: { type: 'string', value: '<id>', description: 'only this rule id' },
        client: { type: 'string', value: '<ip>', description: 'only this client address' },
        action: { type: 'string', value: '<blocked|logged>', description: 'only this action' },
        limit: { type: 'string', value: '<n>', description: 'newest n matches', default: '100' },
      },
      async run(ctx, { values }) {
        const guard = await import('../../guard/index.js');
        const { parseSince } = await import('../../honeypot/index.js');
        const rule = values.rule as string | undefined;
        if (rule !== undefined && !/^\d{1,9}$/.test(rule))
          throw new MamoriError('E_USAGE', `--rule must be a rule id, not '${rule}'`);
        const action = values.action as string | undefined;
        if (action !== undefined && action !== 'blocked' && action !== 'logged')
          throw new MamoriError('E_USAGE', `--action must be blocked or logged, not '${action}'`);
        const limit = String(values.limit);
        if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > 10_000)
          throw new MamoriError('E_USAGE', '--limit must be 1-10000');
        const since = values.since as string | undefined;
        const rows = await guard.listMatches(await ctx.store(), {
          since: since === undefined ? undefined : parseSince(since, Date.now()),
          ruleId: rule === undefined ? undefined : Number(rule),
          client: values.client as string | undefined,
          action,
          limit: Number(limit),
        });
        ctx.print(rows, () =>
          rows.length === 0
            ? 'no matches'
            : rows
                .map(
                  (r) =>
                    `${r.time}  ${r.action.padEnd(7)}  ${String(r.rule_id).padEnd(6)}  ${r.client.padEnd(15)}  ${r.method} ${r.path}  ${r.matched_var}="${r.matched_data.slice(0, 60)}"  ${r.msg}`,
                )
                .join('\n'),
        );
        return 0;
      },
    },
  },
};
