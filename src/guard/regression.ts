/**
 * Reads a go-ftw regression directory (REQUEST-… and RESPONSE-… folders of YAML files) and an
 * optional per-engine override file, and runs the tests in process. The IO shell around
 * core/ftw.ts. Not the network path: that needs the proxy.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MamoriError } from '../shared/errors.js';
import {
  applyOverrides,
  type FtwOverride,
  type FtwResult,
  type FtwTest,
  runFtw,
  testsFromYaml,
} from './core/ftw.js';
import { loadRules } from './rules.js';

export interface RegressionOptions {
  rulesDir: string;
  /** Rule id (e.g. 942100) or test id (942100-3). */
  only?: string;
  overridesFile?: string;
  paranoia?: number;
  onResult?: (r: FtwResult, done: number, total: number) => void;
}

export interface RegressionSummary {
  results: FtwResult[];
  passed: number;
  failed: number;
  skipped: number;
  ruleErrors: number;
}

export function readRegressionTests(dir: string): FtwTest[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MamoriError('E_INPUT', `regression directory not found: ${dir}`);
  }
  const tests: FtwTest[] = [];
  const folders = readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
  for (const d of folders) {
    for (const f of readdirSync(join(dir, d))
      .filter((x) => x.endsWith('.yaml') || x.endsWith('.yml'))
      .sort()) {
      let doc: unknown;
      try {
        doc = parse(readFileSync(join(dir, d, f), 'utf8'));
      } catch (err) {
        throw new MamoriError('E_INPUT', `${d}/${f}: not YAML: ${(err as Error).message}`);
      }
      tests.push(...testsFromYaml(doc, `${d}/${f}`));
    }
  }
  if (tests.length === 0) throw new MamoriError('E_INPUT', `no go-ftw tests under ${dir}`);
  return tests;
}

/** @example runRegression('crs-regression', { rulesDir: 'crs-rules', only: '942100' }) */
export function runRegression(dir: string, opts: RegressionOptions): RegressionSummary {
  let tests = readRegressionTests(dir);
  if (opts.only !== undefined) {
    const only = opts.only;
    tests = tests.filter((t) => String(t.ruleId) === only || `${t.ruleId}-${t.testId}` === only);
    if (tests.length === 0) throw new MamoriError('E_INPUT', `no test matches --only ${only}`);
  }
  let skippedBy = new Map<string, string>();
  if (opts.overridesFile !== undefined) {
    const doc = parse(readFileSync(opts.overridesFile, 'utf8')) as {
      test_overrides?: FtwOverride[];
    };
    skippedBy = applyOverrides(tests, doc.test_overrides ?? []);
  }
  const { engine } = loadRules(opts.rulesDir, { paranoia: opts.paranoia ?? 4, testSettings: true });
  let done = 0;
  const results = runFtw(engine, tests, skippedBy, (r) => {
    done++;
    opts.onResult?.(r, done, tests.length);
  });
  const run = results.filter((r) => r.skipped === undefined);
  const passed = run.filter((r) => r.passed).length;
  return {
    results,
    passed,
    failed: run.length - passed,
    skipped: results.length - run.length,
    ruleErrors: engine.errors.length,
  };
}
