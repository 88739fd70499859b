/**
 * go-ftw regression tests (the CRS project's own suite) run in process against the engine: the
 * YAML shapes, the per-engine override files, request building (including `encoded_request`)
 * and the verdict for each test (expect_ids, no_expect_ids, match_regex, status).
 * Not a network client: the proxy path sends the same requests over a socket (regression.ts).
 */
import { compileRuleSet, type Engine, formatMatch, newTransaction, runPhase } from './engine.js';
import { frontReject } from './front.js';
import type { OperatorContext } from './operators.js';
import type { HttpRequest } from './request.js';
import { emptyRuleSet, parseRules, type RuleSet } from './seclang.js';
import { toByteString } from './sqli.js';

export interface FtwInput {
  dest_addr?: string;
  port?: number;
  method?: string;
  uri?: string;
  version?: string;
  headers?: Record<string, string | number>;
  data?: string;
  encoded_request?: string;
  autocomplete_headers?: boolean;
}

export interface FtwOutput {
  status?: number | number[];
  log?: {
    expect_ids?: number[];
    no_expect_ids?: number[];
    match_regex?: string;
    no_match_regex?: string;
  };
  expect_ids?: number[];
  no_expect_ids?: number[];
  log_contains?: string;
  no_log_contains?: string;
  response_contains?: string;
  expect_error?: boolean;
}

export interface FtwTest {
  ruleId: number;
  testId: number;
  file: string;
  stages: Array<{ input: FtwInput; output: FtwOutput }>;
}

export interface FtwOverride {
  rule_id: number;
  test_ids?: number[];
  reason?: string;
  output?: FtwOutput;
}

export interface FtwResult {
  id: string;
  ruleId: number;
  testId: number;
  passed: boolean;
  skipped?: string;
  reason?: string;
}

/** Turns one parsed YAML file into tests. */
export function testsFromYaml(doc: unknown, file: string): FtwTest[] {
  // a file whose content is all comments (920539.yaml) holds no tests
  if (doc === null || doc === undefined) return [];
  const d = doc as { rule_id?: number; tests?: Array<Record<string, unknown>> };
  const ruleId = Number(d.rule_id);
  return (d.tests ?? []).map((t) => ({
    ruleId,
    testId: Number(t.test_id),
    file,
    stages: ((t.stages ?? []) as Array<Record<string, unknown>>).map((s) => {
      const stage = (s.stage ?? s) as { input: FtwInput; output: FtwOutput };
      return { input: stage.input ?? {}, output: stage.output ?? {} };
    }),
  }));
}

/** Just the paranoia level (blocking and detection), for production use. */
export function paranoiaSettings(paranoia: number): string {
  return `SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=${paranoia},setvar:tx.detection_paranoia_level=${paranoia}"`;
}

/** The CRS test settings of tests/docker-compose.yml, as the container image applies them. */
export function crsTestSettings(paranoia: number): string {
  return [
    `SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=${paranoia}"`,
    `SecAction "id:900001,phase:1,pass,nolog,setvar:tx.detection_paranoia_level=${paranoia}"`,
    'SecAction "id:900340,phase:1,pass,nolog,setvar:tx.arg_length=400,setvar:tx.total_arg_length=6400"',
    'SecAction "id:900350,phase:1,pass,nolog,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"',
  ].join('\n');
}

/**
 * ModSecurity's recommended base rules (modsecurity.conf-recommended, which the CRS container
 * loads before CRS): body processors for XML and JSON, and the body/multipart error rules.
 */
export const BASE_RULES = `
SecRuleEngine DetectionOnly
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
`;

/** Loads rule texts (base, settings, then the CRS files in order) into one engine. */
export function buildEngine(
  files: Array<{ name: string; text: string }>,
  ctx: OperatorContext,
): { engine: Engine; ruleSet: RuleSet } {
  const set = emptyRuleSet();
  for (const f of files) parseRules(f.text, f.name, set);
  return { engine: compileRuleSet(set, ctx), ruleSet: set };
}

/** Parses a raw HTTP/1.x request (for `encoded_request`). */
export function parseRawRequest(raw: string): HttpRequest | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd === -1 ? raw : raw.slice(0, headEnd);
  const body = headEnd === -1 ? '' : raw.slice(headEnd + 4);
  const lines = head.split(/\r?\n/);
  const m = /^(\S+) (\S+)(?: (\S+))?$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers.push([line.slice(0, c), line.slice(c + 1).trim()]);
  }
  return {
    method: m[1] as string,
    uri: m[2] as string,
    protocol: m[3] ?? 'HTTP/0.9',
    headers,
    body,
    remoteAddr: '127.0.0.1',
    remotePort: 40000,
    serverPort: 80,
  };
}

/** Builds the request go-ftw would send for one stage input. */
export function requestFromInput(input: FtwInput): HttpRequest | undefined {
  if (input.encoded_request !== undefined) {
    return parseRawRequest(atob(input.encoded_request.replace(/\s+/g, '')));
  }
  const headers: Array<[string, string]> = Object.entries(input.headers ?? {}).map(([k, v]) => [
    k,
    toByteString(String(v)),
  ]);
  const body = toByteString(input.data ?? '');
  if (input.autocomplete_headers !== false && body !== '') {
    if (!headers.some(([k]) => k.toLowerCase() === 'content-length')) {
      headers.push(['Content-Length', String(body.length)]);
    }
    // go-ftw's autocompletion also types a bare body as a form
    if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) {
      headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
    }
  }
  return {
    method: input.method ?? 'GET',
    uri: toByteString(input.uri ?? '/'),
    protocol: input.version ?? 'HTTP/1.1',
    headers,
    body,
    remoteAddr: '127.0.0.1',
    remotePort: 40000,
    serverPort: input.port ?? 80,
  };
}

export interface StageOutcome {
  ids: Set<number>;
  log: string;
  status: number;
}

/**
 * Runs one request through the HTTP front's checks (a 400 with no rule run, as the proxy
 * answers) and then phases 1 and 2 (request side).
 */
export function runRequest(engine: Engine, req: HttpRequest, uniqueId: string): StageOutcome {
  if (frontReject(req) !== undefined) return { ids: new Set(), log: '', status: 400 };
  const t = newTransaction(engine, req, uniqueId);
  runPhase(t, 1);
  runPhase(t, 2);
  const status = t.interruption?.status ?? 200;
  return {
    ids: new Set(t.matches.map((m) => m.id)),
    log: t.matches.map((m) => formatMatch(m, uniqueId)).join('\n'),
    status,
  };
}

/** Applies an override file's entries to the tests; returns the ids it skips, with reasons. */
export function applyOverrides(tests: FtwTest[], overrides: FtwOverride[]): Map<string, string> {
  const skipped = new Map<string, string>();
  for (const o of overrides) {
    for (const t of tests) {
      if (t.ruleId !== o.rule_id) continue;
      if (o.test_ids !== undefined && !o.test_ids.includes(t.testId)) continue;
      if (o.output === undefined) skipped.set(`${t.ruleId}-${t.testId}`, o.reason ?? 'override');
      else for (const s of t.stages) s.output = o.output;
    }
  }
  return skipped;
}

/** Judges one stage's outcome against its expected output; returns a reason when it fails. */
export function judge(out: FtwOutput, got: StageOutcome): string | undefined {
  const expect = out.log?.expect_ids ?? out.expect_ids ?? [];
  const noExpect = out.log?.no_expect_ids ?? out.no_expect_ids ?? [];
  const missing = expect.filter((id) => !got.ids.has(id));
  if (missing.length > 0) return `expected ${missing.join(',')} to match`;
  const extra = noExpect.filter((id) => got.ids.has(id));
  if (extra.length > 0) return `expected ${extra.join(',')} not to match`;
  const mr = out.log?.match_regex ?? out.log_contains;
  if (mr !== undefined && !new RegExp(mr).test(got.log)) return `log does not match /${mr}/`;
  const nmr = out.log?.no_match_regex ?? out.no_log_contains;
  if (nmr !== undefined && new RegExp(nmr).test(got.log)) return `log matches /${nmr}/`;
  if (out.status !== undefined) {
    const ok = Array.isArray(out.status) ? out.status : [out.status];
    if (!ok.includes(got.status)) return `status ${got.status}, expected ${ok.join('|')}`;
  }
  return undefined;
}

/** Response-side tests need a backend that reflects a response: the 95x rules and 980. */
export const isResponseSide = (ruleId: number) => ruleId >= 950000 && ruleId < 990000;

/** Runs tests in process. `only` limits to a rule id or `rule-test` id. */
export function runFtw(
  engine: Engine,
  tests: FtwTest[],
  skippedByOverride: Map<string, string>,
  onResult?: (r: FtwResult) => void,
): FtwResult[] {
  const results: FtwResult[] = [];
  for (const t of tests) {
    const id = `${t.ruleId}-${t.testId}`;
    let result: FtwResult;
    const skip =
      skippedByOverride.get(id) ?? (isResponseSide(t.ruleId) ? 'response side' : undefined);
    if (skip !== undefined) {
      result = { id, ruleId: t.ruleId, testId: t.testId, passed: false, skipped: skip };
    } else {
      let reason: string | undefined;
      for (const [i, s] of t.stages.entries()) {
        if (s.output.expect_error === true) continue;
        const req = requestFromInput(s.input);
        if (req === undefined) {
          const ok =
            s.output.status === 400 ||
            (Array.isArray(s.output.status) && s.output.status.includes(400));
          if (!ok) reason = 'request could not be built';
          break;
        }
        let got: StageOutcome;
        try {
          got = runRequest(engine, req, `${id}-${i}`);
        } catch (err) {
          reason = `engine error: ${(err as Error).message}`;
          break;
        }
        reason = judge(s.output, got);
        if (reason !== undefined) break;
      }
      result = { id, ruleId: t.ruleId, testId: t.testId, passed: reason === undefined };
      if (reason !== undefined) result.reason = reason;
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}
