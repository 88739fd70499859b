/**
 * Loads a CRS-style rule directory from disk (crs-setup.conf or .example, then rules/*.conf in
 * name order, data files beside them) and builds the engine. The IO shell around core/.
 * Not the parser or the evaluator (core/seclang.ts, core/engine.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MamoriError } from '../shared/errors.js';
import type { Engine } from './core/engine.js';
import { BASE_RULES, buildEngine, crsTestSettings, paranoiaSettings } from './core/ftw.js';
import type { RuleSet } from './core/seclang.js';
import { enableRegexBound, linearCapable } from './regex-bound.js';

export interface LoadOptions {
  /** Paranoia level 1-4 (blocking and detection). */
  paranoia?: number;
  /** Extra SecLang text after the settings (e.g. the CRS test settings). */
  extra?: string;
  ruleEngine?: 'On' | 'DetectionOnly';
  /** Use the CRS project's test settings (argument and file limits) with the paranoia level. */
  testSettings?: boolean;
}

export interface LoadedRules {
  engine: Engine;
  ruleSet: RuleSet;
  files: string[];
}

/** @example loadRules('../shared/vectors/waf/crs-rules', { paranoia: 1 }) */
export function loadRules(dir: string, opts: LoadOptions = {}): LoadedRules {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new MamoriError('E_INPUT', `rules directory not found: ${dir}`);
  }
  const rulesDir = existsSync(join(root, 'rules')) ? join(root, 'rules') : root;
  const setup = ['crs-setup.conf', 'crs-setup.conf.example']
    .map((f) => join(root, f))
    .find((f) => existsSync(f));
  const confs = readdirSync(rulesDir)
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => join(rulesDir, f));
  if (confs.length === 0) throw new MamoriError('E_INPUT', `no .conf files in ${rulesDir}`);
  const files = [...(setup ? [setup] : []), ...confs];
  const texts = [
    { name: 'base', text: BASE_RULES.replace('DetectionOnly', opts.ruleEngine ?? 'DetectionOnly') },
    ...(opts.paranoia !== undefined
      ? [
          {
            name: 'settings',
            text: opts.testSettings
              ? crsTestSettings(opts.paranoia)
              : paranoiaSettings(opts.paranoia),
          },
        ]
      : []),
    ...(opts.extra !== undefined ? [{ name: 'extra', text: opts.extra }] : []),
    ...files.map((f) => ({ name: basename(f), text: readFileSync(f, 'latin1') })),
  ];
  enableRegexBound();
  const { engine, ruleSet } = buildEngine(texts, {
    linearCapable,
    readData(name) {
      const p = resolve(rulesDir, name);
      if (!p.startsWith(rulesDir)) throw new Error(`data file outside the rules: ${name}`);
      return readFileSync(p, 'latin1');
    },
  });
  return { engine, ruleSet, files };
}
