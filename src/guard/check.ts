/**
 * `guard check`: parses a rule directory and lists everything the engine does not support or
 * cannot compile (unknown directives, variables, operators, actions, transformations, and @rx
 * patterns V8 cannot compile), each with its file and line.
 * Not a linter for style: only what would make the rule set not run as written.
 */
import { loadRules } from './rules.js';

export interface CheckReport {
  files: number;
  rules: number;
  issues: Array<{ file: string; line: number; message: string }>;
}

/** @example checkRules('../shared/vectors/waf/crs-rules').issues // [] */
export function checkRules(dir: string): CheckReport {
  const { engine, ruleSet, files } = loadRules(dir);
  const issues = [
    ...ruleSet.issues,
    ...engine.errors.map((e) => ({
      file: e.file,
      line: e.line,
      message: `rule ${e.id}: ${e.message}`,
    })),
  ].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const rules = ruleSet.items.filter((i) => i.kind === 'rule').length;
  return { files: files.length, rules, issues };
}
