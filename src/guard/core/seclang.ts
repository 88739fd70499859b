/**
 * SecLang (ModSecurity rule language) parser for what the OWASP Core Rule Set uses: SecRule,
 * SecAction, SecMarker, SecDefaultAction, SecRuleUpdateTargetById, SecRuleRemoveById and the
 * engine settings, with line continuations, quoting, rule chains, variables, operators and
 * actions. Every directive, variable, operator, transformation or action it does not support is
 * reported with its file and line; nothing is silently dropped.
 * Not the evaluator: that is engine.ts.
 */

export interface Issue {
  file: string;
  line: number;
  message: string;
}

export interface VarSpec {
  collection: string;
  /** Exact key (case-insensitive), or undefined for the whole collection. */
  key?: string;
  /** Key regex, from `COLLECTION:/regex/`. */
  keyRegex?: RegExp;
  exclude: boolean;
  count: boolean;
}

export interface OperatorSpec {
  name: string;
  negated: boolean;
  param: string;
}

export interface Action {
  name: string;
  value: string;
}

export interface Rule {
  kind: 'rule';
  file: string;
  line: number;
  /** SecAction is a rule with no variables and @unconditionalMatch. */
  vars: VarSpec[];
  op: OperatorSpec;
  actions: Action[];
  id: number;
  phase: number;
  chain?: Rule;
  isChained: boolean;
  transforms: string[];
  tags: string[];
}

export interface Marker {
  kind: 'marker';
  name: string;
  file: string;
  line: number;
}

export interface RuleSet {
  items: Array<Rule | Marker>;
  /** SecDefaultAction per phase. */
  defaults: Map<number, Action[]>;
  engine: 'On' | 'Off' | 'DetectionOnly';
  settings: Map<string, string>;
  issues: Issue[];
}

export const SUPPORTED_VARIABLES = new Set([
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'ARGS_GET_NAMES',
  'ARGS_POST_NAMES',
  'ARGS_COMBINED_SIZE',
  'AUTH_TYPE',
  'DURATION',
  'FILES',
  'FILES_COMBINED_SIZE',
  'FILES_NAMES',
  'FILES_SIZES',
  'FULL_REQUEST_LENGTH',
  'GEO',
  'IP',
  'MATCHED_VAR',
  'MATCHED_VARS',
  'MATCHED_VAR_NAME',
  'MATCHED_VARS_NAMES',
  'MULTIPART_BOUNDARY_QUOTED',
  'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_CRLF_LF_LINES',
  'MULTIPART_DATA_AFTER',
  'MULTIPART_DATA_BEFORE',
  'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_FILENAME',
  'MULTIPART_HEADER_FOLDING',
  'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_INVALID_PART',
  'MULTIPART_INVALID_QUOTING',
  'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON',
  'MULTIPART_NAME',
  'MULTIPART_PART_HEADERS',
  'MULTIPART_STRICT_ERROR',
  'MULTIPART_UNMATCHED_BOUNDARY',
  'QUERY_STRING',
  'REMOTE_ADDR',
  'REMOTE_PORT',
  'REQBODY_ERROR',
  'REQBODY_ERROR_MSG',
  'REQBODY_PROCESSOR',
  'REQUEST_BASENAME',
  'REQUEST_BODY',
  'REQUEST_BODY_LENGTH',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'REQUEST_FILENAME',
  'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES',
  'REQUEST_LINE',
  'REQUEST_METHOD',
  'REQUEST_PROTOCOL',
  'REQUEST_URI',
  'REQUEST_URI_RAW',
  'RESPONSE_BODY',
  'RESPONSE_HEADERS',
  'RESPONSE_HEADERS_NAMES',
  'RESPONSE_PROTOCOL',
  'RESPONSE_STATUS',
  'RESPONSE_CONTENT_TYPE',
  'RESPONSE_CONTENT_LENGTH',
  'SERVER_ADDR',
  'SERVER_NAME',
  'SERVER_PORT',
  'SESSION',
  'STATUS_LINE',
  'TIME',
  'TIME_EPOCH',
  'TX',
  'UNIQUE_ID',
  'URLENCODED_ERROR',
  'USER',
  'XML',
]);

export const SUPPORTED_OPERATORS = new Set([
  'rx',
  'pm',
  'pmf',
  'pmFromFile',
  'detectSQLi',
  'detectXSS',
  'validateByteRange',
  'validateUrlEncoding',
  'validateUtf8Encoding',
  'ipMatch',
  'ipMatchFromFile',
  'eq',
  'ge',
  'gt',
  'le',
  'lt',
  'streq',
  'contains',
  'containsWord',
  'beginsWith',
  'endsWith',
  'within',
  'unconditionalMatch',
  'noMatch',
  'strmatch',
]);

export const SUPPORTED_ACTIONS = new Set([
  'id',
  'phase',
  'chain',
  't',
  'setvar',
  'msg',
  'logdata',
  'tag',
  'severity',
  'ver',
  'rev',
  'maturity',
  'accuracy',
  'pass',
  'block',
  'deny',
  'drop',
  'allow',
  'status',
  'redirect',
  'log',
  'nolog',
  'auditlog',
  'noauditlog',
  'capture',
  'multiMatch',
  'skipAfter',
  'skip',
  'ctl',
  'initcol',
  'expirevar',
  'setenv',
  'sanitiseArg',
  'sanitiseMatched',
]);

export const SUPPORTED_CTLS = new Set([
  'ruleRemoveById',
  'ruleRemoveByTag',
  'ruleRemoveTargetById',
  'ruleRemoveTargetByTag',
  'ruleEngine',
  'requestBodyProcessor',
  'forceRequestBodyVariable',
  'requestBodyAccess',
  'auditEngine',
  'auditLogParts',
]);

/** Joins continuation lines; yields [logical line, first physical line number]. */
function* logicalLines(text: string): Generator<[string, number]> {
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1);
      continue;
    }
    buf += line;
    yield [buf, start];
    buf = '';
  }
  if (buf !== '') yield [buf, start];
}

/** Splits a directive line into its arguments (double-quoted with \" escapes, or bare). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    if (line[i] === '"') {
      let j = i + 1;
      let s = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) {
          // ModSecurity unescapes only \" here; keep \\ for the regex.
          if (line[j + 1] === '"') {
            s += '"';
            j += 2;
            continue;
          }
        }
        s += line[j];
        j++;
      }
      out.push(s);
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && !/\s/.test(line[j] as string)) j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Splits an action list at commas outside single quotes. */
export function parseActions(text: string): Action[] {
  const out: Action[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ',' || /\s/.test(text[i] as string))) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && text[i] !== ':' && text[i] !== ',') name += text[i++];
    name = name.trim();
    let value = '';
    if (text[i] === ':') {
      i++;
      while (i < n && /\s/.test(text[i] as string)) i++;
      if (text[i] === "'") {
        i++;
        while (i < n && text[i] !== "'") {
          if (text[i] === '\\' && text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          value += text[i++];
        }
        i++;
      } else {
        while (i < n && text[i] !== ',') value += text[i++];
        value = value.trim();
      }
    }
    out.push({ name, value });
  }
  return out;
}

/** Parses a variable list such as `REQUEST_HEADERS:User-Agent|!ARGS:/^foo/|&TX:x`. */
export function parseVariables(text: string): VarSpec[] {
  const parts: string[] = [];
  let cur = '';
  let inRegex = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    // XML:/* and XML://@* are XPath, not key regexes
    if (!inRegex && c === '/' && text[i - 1] === ':' && !/^[!&]?XML:$/i.test(cur)) inRegex = true;
    else if (inRegex && c === '/' && text[i - 1] !== '\\') inRegex = false;
    if (c === '|' && !inRegex) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '') parts.push(cur);
  return parts.map((p) => {
    let s = p.trim();
    let exclude = false;
    let count = false;
    if (s.startsWith('!')) {
      exclude = true;
      s = s.slice(1);
    }
    if (s.startsWith('&')) {
      count = true;
      s = s.slice(1);
    }
    const colon = s.indexOf(':');
    const collection = (colon === -1 ? s : s.slice(0, colon)).toUpperCase();
    const spec: VarSpec = { collection, exclude, count };
    if (colon !== -1) {
      let key = s.slice(colon + 1);
      if (key.startsWith("'") && key.endsWith("'") && key.length >= 2) key = key.slice(1, -1);
      if (collection !== 'XML' && key.length >= 2 && key.startsWith('/') && key.endsWith('/')) {
        spec.keyRegex = new RegExp(key.slice(1, -1), 'i');
      } else {
        spec.key = key.toLowerCase();
      }
    }
    return spec;
  });
}

export function parseOperator(text: string): OperatorSpec {
  let s = text.trimStart();
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1);
  }
  if (!s.startsWith('@')) return { name: 'rx', negated, param: s };
  const m = /^@([A-Za-z0-9]+)\s?([\s\S]*)$/.exec(s);
  if (!m) return { name: '', negated, param: s };
  return { name: m[1] as string, negated, param: m[2] as string };
}

function makeRule(
  file: string,
  line: number,
  vars: VarSpec[],
  op: OperatorSpec,
  actions: Action[],
  issues: Issue[],
): Rule {
  const rule: Rule = {
    kind: 'rule',
    file,
    line,
    vars,
    op,
    actions,
    id: 0,
    phase: 2,
    isChained: false,
    transforms: [],
    tags: [],
  };
  for (const a of actions) {
    if (!SUPPORTED_ACTIONS.has(a.name)) {
      issues.push({ file, line, message: `unsupported action "${a.name}"` });
    }
    if (a.name === 'id') rule.id = Number(a.value);
    else if (a.name === 'phase') {
      const p =
        a.value === 'request'
          ? 2
          : a.value === 'response'
            ? 4
            : a.value === 'logging'
              ? 5
              : Number(a.value);
      rule.phase = p;
    } else if (a.name === 't') rule.transforms.push(a.value);
    else if (a.name === 'tag') rule.tags.push(a.value);
    else if (a.name === 'ctl') {
      const name = a.value.split('=')[0] as string;
      if (!SUPPORTED_CTLS.has(name))
        issues.push({ file, line, message: `unsupported ctl "${name}"` });
    }
  }
  for (const v of vars) {
    if (!SUPPORTED_VARIABLES.has(v.collection)) {
      issues.push({ file, line, message: `unsupported variable "${v.collection}"` });
    }
  }
  if (!SUPPORTED_OPERATORS.has(op.name)) {
    issues.push({ file, line, message: `unsupported operator "@${op.name}"` });
  }
  return rule;
}

/**
 * Parses one rule file's text into `set` (which may already hold earlier files).
 * @example parseRules('SecRule ARGS "@rx foo" "id:1,phase:2,deny"', 'x.conf', emptyRuleSet())
 */
export function parseRules(text: string, file: string, set: RuleSet): void {
  let chainParent: Rule | undefined;
  for (const [raw, line] of logicalLines(text)) {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let args: string[];
    try {
      args = splitArgs(trimmed);
    } catch (err) {
      set.issues.push({ file, line, message: `cannot parse: ${String(err)}` });
      continue;
    }
    const directive = args[0] as string;
    try {
      switch (directive) {
        case 'SecRule': {
          if (args.length < 3) {
            set.issues.push({ file, line, message: 'SecRule needs variables and an operator' });
            break;
          }
          const rule = makeRule(
            file,
            line,
            parseVariables(args[1] as string),
            parseOperator(args[2] as string),
            parseActions(args[3] ?? ''),
            set.issues,
          );
          chainParent = attach(set, rule, chainParent);
          break;
        }
        case 'SecAction': {
          const rule = makeRule(
            file,
            line,
            [],
            { name: 'unconditionalMatch', negated: false, param: '' },
            parseActions(args[1] ?? ''),
            set.issues,
          );
          chainParent = attach(set, rule, chainParent);
          break;
        }
        case 'SecMarker':
          set.items.push({ kind: 'marker', name: stripQuotes(args[1] ?? ''), file, line });
          break;
        case 'SecDefaultAction': {
          const actions = parseActions(args[1] ?? '');
          const phase = Number(actions.find((a) => a.name === 'phase')?.value ?? 2);
          set.defaults.set(phase, actions);
          break;
        }
        case 'SecRuleEngine':
          set.engine = (args[1] as RuleSet['engine']) ?? 'On';
          break;
        case 'SecRuleRemoveById':
          for (const id of args.slice(1)) removeById(set, id);
          break;
        case 'SecRuleUpdateTargetById': {
          const id = Number(args[1]);
          const vars = parseVariables(args[2] ?? '');
          let found = false;
          for (const item of set.items) {
            if (item.kind === 'rule' && item.id === id) {
              item.vars.push(...vars);
              found = true;
            }
          }
          if (!found)
            set.issues.push({ file, line, message: `SecRuleUpdateTargetById: no rule ${id}` });
          break;
        }
        case 'SecComponentSignature':
        case 'SecRequestBodyAccess':
        case 'SecResponseBodyAccess':
        case 'SecRequestBodyLimit':
        case 'SecRequestBodyNoFilesLimit':
        case 'SecRequestBodyLimitAction':
        case 'SecResponseBodyMimeType':
        case 'SecResponseBodyLimit':
        case 'SecResponseBodyLimitAction':
        case 'SecArgumentSeparator':
        case 'SecCookieFormat':
        case 'SecUnicodeMapFile':
        case 'SecStatusEngine':
        case 'SecTmpDir':
        case 'SecDataDir':
        case 'SecCollectionTimeout':
        case 'SecPcreMatchLimit':
        case 'SecPcreMatchLimitRecursion':
        case 'SecArgumentsLimit':
        case 'SecAuditEngine':
        case 'SecAuditLog':
        case 'SecAuditLogParts':
        case 'SecAuditLogType':
        case 'SecAuditLogFormat':
        case 'SecAuditLogRelevantStatus':
        case 'SecDebugLog':
        case 'SecDebugLogLevel':
          set.settings.set(directive, args.slice(1).join(' '));
          break;
        default:
          set.issues.push({ file, line, message: `unsupported directive "${directive}"` });
      }
    } catch (err) {
      set.issues.push({ file, line, message: (err as Error).message });
    }
  }
}

function attach(set: RuleSet, rule: Rule, parent: Rule | undefined): Rule | undefined {
  if (parent !== undefined) {
    rule.isChained = true;
    rule.phase = parent.phase;
    parent.chain = rule;
  } else {
    set.items.push(rule);
  }
  return rule.actions.some((a) => a.name === 'chain') ? rule : undefined;
}

function removeById(set: RuleSet, spec: string): void {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) return;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  set.items = set.items.filter((i) => i.kind !== 'rule' || i.id < lo || i.id > hi);
}

const stripQuotes = (s: string) => s.replace(/^'(.*)'$/, '$1');

export function emptyRuleSet(): RuleSet {
  return { items: [], defaults: new Map(), engine: 'On', settings: new Map(), issues: [] };
}
