/**
 * The SecLang evaluator: compiles a parsed rule set once (operators, transformations, markers)
 * and runs transactions through phases 1, 2 and 4 with ModSecurity v2 semantics for chains,
 * skipAfter/markers, setvar and TX, capture, ctl, macro expansion and disruptive actions.
 * Every rule that matches and logs is recorded; the caller decides what to do with a deny.
 * Not IO: rule files and data files come in as text, requests as parsed values.
 */
import { compileOperator, type Matcher, type OperatorContext } from './operators.js';
import {
  type Collections,
  type Entry,
  type HttpRequest,
  parseBody,
  requestCollections,
} from './request.js';
import type { Action, Rule, RuleSet, VarSpec } from './seclang.js';
import { TRANSFORMS, type Transform } from './transforms.js';

export interface CompiledRule {
  rule: Rule;
  matcher: Matcher;
  transforms: Transform[];
  chain?: CompiledRule;
  skipAfter?: string;
  skip: number;
  disruptive: string;
  log: boolean;
  multiMatch: boolean;
  capture: boolean;
}

export interface Engine {
  phases: Map<number, Array<CompiledRule | { marker: string }>>;
  ruleSet: RuleSet;
  /** Load-time problems: rules that could not be compiled (they never run). */
  errors: Array<{ file: string; line: number; id: number; message: string }>;
}

export interface MatchRecord {
  id: number;
  phase: number;
  msg: string;
  data: string;
  severity: string;
  tags: string[];
  matchedVar: string;
  matchedVarName: string;
  disruptive: string;
}

export interface Interruption {
  ruleId: number;
  action: string;
  status: number;
}

export interface Transaction {
  engine: Engine;
  request: HttpRequest;
  collections: Collections;
  tx: Map<string, string>;
  matches: MatchRecord[];
  removedIds: Set<number>;
  removedTags: string[];
  removedTargets: Array<{ id?: number; tag?: string; target: VarSpec }>;
  ruleEngine: 'On' | 'Off' | 'DetectionOnly';
  bodyProcessor: string;
  forceBodyVariable: boolean;
  interruption?: Interruption;
  /** DetectionOnly: the first disruptive action a rule asked for and the engine did not take. */
  detected?: Interruption;
  matchedVar: string;
  matchedVarName: string;
  matchedVars: Entry[];
  bodyParsed: boolean;
}

/**
 * Compiles a rule set. Rules whose operator cannot be compiled are left out and listed in
 * `errors` (the caller must surface them: a rule set with errors does not protect fully).
 */
export function compileRuleSet(set: RuleSet, ctx: OperatorContext): Engine {
  const phases = new Map<number, Array<CompiledRule | { marker: string }>>();
  const errors: Engine['errors'] = [];
  for (const p of [1, 2, 3, 4, 5]) phases.set(p, []);
  for (const item of set.items) {
    if (item.kind === 'marker') {
      for (const list of phases.values()) list.push({ marker: item.name });
      continue;
    }
    try {
      const compiled = compileRule(item, set, ctx);
      phases.get(item.phase)?.push(compiled);
    } catch (err) {
      errors.push({
        file: item.file,
        line: item.line,
        id: item.id,
        message: (err as Error).message,
      });
    }
  }
  return { phases, ruleSet: set, errors };
}

function compileRule(rule: Rule, set: RuleSet, ctx: OperatorContext): CompiledRule {
  const transforms: Transform[] = [];
  const defaults = set.defaults.get(rule.phase) ?? [];
  const names = [...defaults.filter((a) => a.name === 't').map((a) => a.value), ...rule.transforms];
  for (const t of names) {
    if (t === 'none') {
      transforms.length = 0;
      continue;
    }
    const f = TRANSFORMS[t];
    if (f === undefined) throw new Error(`unsupported transformation t:${t}`);
    transforms.push(f);
  }
  const has = (n: string) => rule.actions.some((a) => a.name === n);
  const get = (n: string) => rule.actions.find((a) => a.name === n)?.value;
  let disruptive = 'pass';
  for (const a of rule.actions) {
    if (['pass', 'block', 'deny', 'drop', 'allow', 'redirect'].includes(a.name))
      disruptive = a.name;
  }
  if (disruptive === 'block') {
    const d = defaults.find((a) => ['pass', 'deny', 'drop', 'redirect'].includes(a.name));
    disruptive = d === undefined ? 'pass' : d.name === 'pass' ? 'block' : d.name;
  }
  const compiled: CompiledRule = {
    rule,
    matcher: compileOperator(rule.op.name, rule.op.param, ctx),
    transforms,
    skip: Number(get('skip') ?? 0),
    disruptive,
    log: !has('nolog') && (has('log') || !defaults.some((a) => a.name === 'nolog')),
    multiMatch: has('multiMatch'),
    capture: has('capture'),
  };
  const skipAfter = get('skipAfter');
  if (skipAfter !== undefined) compiled.skipAfter = skipAfter;
  if (rule.chain !== undefined) compiled.chain = compileRule(rule.chain, set, ctx);
  return compiled;
}

export function newTransaction(
  engine: Engine,
  request: HttpRequest,
  uniqueId: string,
): Transaction {
  return {
    engine,
    request,
    collections: requestCollections(request, uniqueId),
    tx: new Map(),
    matches: [],
    removedIds: new Set(),
    removedTags: [],
    removedTargets: [],
    ruleEngine: engine.ruleSet.engine,
    bodyProcessor: '',
    forceBodyVariable: false,
    matchedVar: '',
    matchedVarName: '',
    matchedVars: [],
    bodyParsed: false,
  };
}

/** Expands %{collection.key} macros. */
export function expandMacros(t: Transaction, s: string): string {
  if (!s.includes('%{')) return s;
  return s.replace(/%\{([^}]+)\}/g, (_m, ref: string) => {
    const dot = ref.indexOf('.');
    const col = (dot === -1 ? ref : ref.slice(0, dot)).toUpperCase();
    const key = dot === -1 ? undefined : ref.slice(dot + 1).toLowerCase();
    if (col === 'MATCHED_VAR') return t.matchedVar;
    if (col === 'MATCHED_VAR_NAME') return t.matchedVarName;
    if (col === 'TX' && key !== undefined) return t.tx.get(key) ?? '';
    const entries = t.collections.get(col) ?? [];
    if (key === undefined) return entries[0]?.value ?? '';
    return entries.find((e) => e.key.toLowerCase() === key)?.value ?? '';
  });
}

interface Value {
  name: string;
  value: string;
}

function collectionEntries(t: Transaction, col: string): Entry[] {
  if (col === 'TX') return [...t.tx.entries()].map(([key, value]) => ({ key, value }));
  if (col === 'MATCHED_VAR') return [{ key: '', value: t.matchedVar }];
  if (col === 'MATCHED_VAR_NAME') return [{ key: '', value: t.matchedVarName }];
  if (col === 'MATCHED_VARS') return t.matchedVars;
  if (col === 'MATCHED_VARS_NAMES') return t.matchedVars.map((e) => ({ key: e.key, value: e.key }));
  return t.collections.get(col) ?? [];
}

const NO_ENTRIES: Entry[] = [];

/** The entries of one variable spec: an exact TX key is a map lookup, not a scan. */
function specEntries(t: Transaction, spec: VarSpec): Entry[] {
  const key = spec.key;
  if (key !== undefined && spec.collection === 'TX') {
    const v = t.tx.get(key);
    return v === undefined ? NO_ENTRIES : [{ key, value: v }];
  }
  const all = collectionEntries(t, spec.collection);
  if (key !== undefined) {
    const out: Entry[] = [];
    for (const e of all) {
      if (e.key.length === key.length && e.key.toLowerCase() === key) out.push(e);
    }
    return out;
  }
  if (spec.keyRegex !== undefined) {
    const re = spec.keyRegex;
    return all.filter((e) => re.test(e.key));
  }
  return all;
}

const keyMatches = (spec: VarSpec, key: string) =>
  spec.keyRegex !== undefined
    ? spec.keyRegex.test(key)
    : spec.key === undefined || key.toLowerCase() === spec.key;

function resolveVariables(t: Transaction, cr: CompiledRule): Value[] {
  const specs = cr.rule.vars;
  const out: Value[] = [];
  let excluded: VarSpec[] | undefined;
  for (const spec of specs) {
    if (spec.exclude) {
      excluded ??= [];
      excluded.push(spec);
    }
  }
  for (const r of t.removedTargets) {
    if (
      (r.id !== undefined && r.id === cr.rule.id) ||
      (r.tag !== undefined && cr.rule.tags.includes(r.tag))
    ) {
      excluded ??= [];
      excluded.push(r.target);
    }
  }
  for (const spec of specs) {
    if (spec.exclude) continue;
    const entries = specEntries(t, spec);
    if (spec.count) {
      out.push({ name: spec.collection, value: String(entries.length) });
      continue;
    }
    for (const e of entries) {
      if (excluded?.some((x) => x.collection === spec.collection && keyMatches(x, e.key))) {
        continue;
      }
      const name = e.key === '' ? spec.collection : `${spec.collection}:${e.key}`;
      out.push({ name, value: e.value });
    }
  }
  return out;
}

/** Evaluates one rule (not its chain); returns whether it matched and records MATCHED_*. */
function evaluate(t: Transaction, cr: CompiledRule): boolean {
  const expand = (s: string) => expandMacros(t, s);
  const values = cr.rule.vars.length === 0 ? [{ name: '', value: '' }] : resolveVariables(t, cr);
  let matched = false;
  const negated = cr.rule.op.negated;
  const matchedNow: Entry[] = [];
  for (const v of values) {
    const candidates: string[] = [];
    let cur = v.value;
    if (cr.multiMatch) candidates.push(cur);
    for (const f of cr.transforms) {
      cur = f(cur);
      if (cr.multiMatch) candidates.push(cur);
    }
    if (!cr.multiMatch) candidates.push(cur);
    for (const input of candidates) {
      const r = cr.matcher(input, expand);
      if (r.matched !== negated) {
        matched = true;
        t.matchedVar = input;
        t.matchedVarName = v.name;
        matchedNow.push({ key: v.name, value: input });
        if (cr.capture && r.captures !== undefined) {
          for (let i = 0; i < 10; i++) t.tx.delete(String(i));
          for (const [i, c] of r.captures.entries()) t.tx.set(String(i), c);
        }
        // as ModSecurity v2, v3 and Coraza: the non-disruptive actions run once per matched
        // variable (921170 counts each repeated parameter name, 920450 notes each header)
        runActions(t, cr);
        break;
      }
    }
  }
  if (matched) t.matchedVars = matchedNow;
  return matched;
}

function setvar(t: Transaction, spec: string): void {
  const s = expandMacros(t, spec);
  if (s.startsWith('!')) {
    const name = s.slice(1).toLowerCase();
    if (name.startsWith('tx.')) t.tx.delete(name.slice(3));
    return;
  }
  const eq = s.indexOf('=');
  const name = (eq === -1 ? s : s.slice(0, eq)).trim().toLowerCase();
  if (!name.startsWith('tx.')) return; // ip./session./global. collections are not persisted
  const key = name.slice(3);
  let value = eq === -1 ? '1' : s.slice(eq + 1);
  if (value.startsWith('+') || value.startsWith('-')) {
    const cur = Number.parseInt(t.tx.get(key) ?? '0', 10) || 0;
    const delta = Number.parseInt(value, 10) || 0;
    value = String(cur + delta);
  }
  t.tx.set(key, value);
}

function ctl(t: Transaction, spec: string): void {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  const value = expandMacros(t, spec.slice(eq + 1));
  switch (name) {
    case 'ruleRemoveById':
      for (const part of value.split(/[\s,]+/)) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(part);
        if (!m) continue;
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : Number(m[2]);
        if (hi - lo > 1_000_000) continue;
        for (let id = lo; id <= hi; id++) t.removedIds.add(id);
      }
      break;
    case 'ruleRemoveByTag':
      t.removedTags.push(value);
      break;
    case 'ruleRemoveTargetById':
    case 'ruleRemoveTargetByTag': {
      const [what, target] = value.split(';') as [string, string | undefined];
      if (target === undefined) break;
      const spec2 = parseTarget(target);
      if (name === 'ruleRemoveTargetById')
        t.removedTargets.push({ id: Number(what), target: spec2 });
      else t.removedTargets.push({ tag: what, target: spec2 });
      break;
    }
    case 'ruleEngine':
      if (value === 'On' || value === 'Off' || value === 'DetectionOnly') t.ruleEngine = value;
      break;
    case 'requestBodyProcessor':
      t.bodyProcessor = value.toUpperCase();
      t.collections.set('REQBODY_PROCESSOR', [{ key: '', value: t.bodyProcessor }]);
      break;
    case 'forceRequestBodyVariable':
      t.forceBodyVariable = value.toLowerCase() === 'on';
      break;
    default:
      break;
  }
}

function parseTarget(s: string): VarSpec {
  const colon = s.indexOf(':');
  const collection = (colon === -1 ? s : s.slice(0, colon)).toUpperCase();
  const spec: VarSpec = { collection, exclude: true, count: false };
  if (colon !== -1) {
    const key = s.slice(colon + 1);
    if (key.startsWith('/') && key.endsWith('/') && key.length >= 2) {
      spec.keyRegex = new RegExp(key.slice(1, -1), 'i');
    } else spec.key = key.toLowerCase();
  }
  return spec;
}

function runActions(t: Transaction, cr: CompiledRule): void {
  for (const a of cr.rule.actions) {
    if (a.name === 'setvar') setvar(t, a.value);
    else if (a.name === 'ctl') {
      try {
        ctl(t, a.value);
      } catch {
        // a ctl whose target regex does not compile changes nothing (guard check reports it)
      }
    }
  }
}

function actionValue(actions: Action[], name: string): string {
  return actions.find((a) => a.name === name)?.value ?? '';
}

/** Runs one phase. Parses the body lazily at the start of phase 2. */
export function runPhase(t: Transaction, phase: number): void {
  if (t.ruleEngine === 'Off' || t.interruption !== undefined) return;
  if (phase === 2 && !t.bodyParsed) {
    t.bodyParsed = true;
    const proc =
      t.bodyProcessor !== ''
        ? t.bodyProcessor
        : (t.collections.get('REQBODY_PROCESSOR')?.[0]?.value ?? '');
    parseBody(t.collections, t.request, proc, t.forceBodyVariable);
  }
  const list = t.engine.phases.get(phase) ?? [];
  let skipTo: string | undefined;
  let skipN = 0;
  for (const item of list) {
    if ('marker' in item) {
      if (skipTo !== undefined && item.marker === skipTo) skipTo = undefined;
      continue;
    }
    if (skipTo !== undefined) continue;
    if (skipN > 0) {
      skipN--;
      continue;
    }
    const rule = item.rule;
    if (t.removedIds.has(rule.id)) continue;
    if (t.removedTags.length > 0 && rule.tags.some((tag) => t.removedTags.includes(tag))) continue;
    // As in ModSecurity, each link's setvar/ctl run as soon as it matches (the next link may
    // read them); the rule as a whole matches only when every link does.
    if (!evaluate(t, item)) continue;
    let ok = true;
    for (let c = item.chain; c !== undefined; c = c.chain) {
      if (!evaluate(t, c)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (item.log && rule.id !== 0) {
      t.matches.push({
        id: rule.id,
        phase,
        msg: expandMacros(t, actionValue(rule.actions, 'msg')),
        data: expandMacros(t, actionValue(rule.actions, 'logdata')),
        severity: actionValue(rule.actions, 'severity'),
        tags: rule.tags,
        matchedVar: t.matchedVar,
        matchedVarName: t.matchedVarName,
        disruptive: item.disruptive,
      });
    }
    if (
      item.disruptive === 'deny' ||
      item.disruptive === 'drop' ||
      item.disruptive === 'redirect'
    ) {
      const status = Number(actionValue(rule.actions, 'status') || 403);
      if (t.ruleEngine === 'On') {
        t.interruption = { ruleId: rule.id, action: item.disruptive, status };
        return;
      }
      t.detected ??= { ruleId: rule.id, action: item.disruptive, status };
    }
    if (item.disruptive === 'allow' && t.ruleEngine === 'On') return;
    if (item.skipAfter !== undefined) skipTo = item.skipAfter;
    else if (item.skip > 0) skipN = item.skip;
  }
}

/** Renders a match like ModSecurity's error log line (what go-ftw's match_regex reads). */
export function formatMatch(m: MatchRecord, uniqueId: string): string {
  const q = (s: string) => s.replace(/"/g, '\\"');
  return `ModSecurity: Warning. Matched "${q(m.matchedVarName)}". [id "${m.id}"] [msg "${q(m.msg)}"] [data "${q(m.data)}"] [severity "${m.severity}"]${m.tags.map((t) => ` [tag "${q(t)}"]`).join('')} [unique_id "${uniqueId}"]`;
}
