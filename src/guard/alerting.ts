/**
 * Alerts for blocked requests, aggregated so an attack burst is a handful of alerts, not one
 * per request: the first block of a (rule, client) pair raises `guard.blocked` at once; later
 * blocks of the same pair are counted and raised as one `guard.blocked_burst` per window; past
 * `maxPairsPerWindow` new pairs in a window (a spread-out attack), new pairs are folded into one
 * `guard.blocked_many`. In detect mode the same, as `guard.detected*`: those requests reached the
 * application (no false all-clear while a rule set is being tuned). Everything counted is raised
 * by `close()`. Not the sink (alerts/).
 */
import type { Alert, AlertSink } from '../alerts/index.js';

export interface BlockInfo {
  requestId: string;
  ruleIds: number[];
  score: number;
  uri: string;
  client: string;
  /** Detect mode: block mode would have refused it, and it was passed on. */
  detected?: boolean;
}

export interface BlockAlerterOptions {
  sink: AlertSink;
  /** Aggregation window (ms); default 10 minutes. */
  windowMs?: number;
  /** New (rule, client) pairs alerted one by one per window; default 20. */
  maxPairsPerWindow?: number;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Check windows on a timer (ms); 0 for none (tests call tick()). Default 5,000. */
  tickMs?: number;
  /** A raise that failed (the sink writes to the store). */
  onError?: (err: unknown) => void;
}

type Verb = 'blocked' | 'detected';
const VERBS: Verb[] = ['blocked', 'detected'];
const newFolded = () => ({ count: 0, clients: new Set<string>(), rules: new Set<number>() });

interface Pair {
  verb: Verb;
  ruleId: number;
  client: string;
  since: number;
  count: number;
  lastUri: string;
  maxScore: number;
}

/** The rule a block is about: the first that is not an anomaly-score evaluation rule. */
export function primaryRule(ruleIds: number[]): number {
  const scoring = (id: number) => (id >= 949000 && id < 950000) || id >= 959000;
  return ruleIds.find((id) => !scoring(id)) ?? ruleIds[0] ?? 0;
}

/**
 * @example const a = new BlockAlerter({ sink }); proxyOptions.onBlock = (b) => a.blocked(b); … await a.close();
 */
export class BlockAlerter {
  readonly #opts: Required<Omit<BlockAlerterOptions, 'onError'>> &
    Pick<BlockAlerterOptions, 'onError'>;
  readonly #pairs = new Map<string, Pair>();
  #windowStart: number;
  #newPairs = 0;
  #folded: Record<Verb, ReturnType<typeof newFolded>> = {
    blocked: newFolded(),
    detected: newFolded(),
  };
  readonly #pending = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  /** Alerts raised so far, by kind. */
  readonly raised: Record<string, number> = {};

  constructor(opts: BlockAlerterOptions) {
    this.#opts = {
      windowMs: 600_000,
      maxPairsPerWindow: 20,
      now: Date.now,
      tickMs: 5_000,
      ...opts,
    };
    this.#windowStart = this.#opts.now();
    if (this.#opts.tickMs > 0) {
      this.#timer = setInterval(() => this.tick(), this.#opts.tickMs);
      this.#timer.unref();
    }
  }

  #raise(alert: Alert): void {
    this.raised[alert.kind] = (this.raised[alert.kind] ?? 0) + 1;
    const p = this.#opts.sink
      .raise(alert)
      .catch((e: unknown) => this.#opts.onError?.(e))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** One blocked request. */
  blocked(b: BlockInfo): void {
    const now = this.#opts.now();
    this.#rollWindow(now);
    const ruleId = primaryRule(b.ruleIds);
    const verb: Verb = b.detected ? 'detected' : 'blocked';
    const key = `${verb}|${ruleId}|${b.client}`;
    const pair = this.#pairs.get(key);
    if (pair) {
      pair.count++;
      pair.lastUri = b.uri;
      pair.maxScore = Math.max(pair.maxScore, b.score);
      return;
    }
    if (this.#newPairs >= this.#opts.maxPairsPerWindow) {
      const f = this.#folded[verb];
      f.count++;
      if (f.clients.size < 10_000) f.clients.add(b.client);
      if (f.rules.size < 1_000) f.rules.add(ruleId);
      return;
    }
    this.#newPairs++;
    this.#pairs.set(key, {
      verb,
      ruleId,
      client: b.client,
      since: now,
      count: 0,
      lastUri: b.uri,
      maxScore: b.score,
    });
    const passed = verb === 'detected' ? ' (detect mode: it reached the application)' : '';
    this.#raise({
      area: 'guard',
      kind: `guard.${verb}`,
      severity: 'medium',
      message: `${verb} ${b.client} on rule ${ruleId}: ${b.uri.slice(0, 200)} (score ${b.score})${passed}`,
      next: `look at \`mamori guard matches --client ${b.client}\` and the targeted application; further ${verb} requests of this rule and client are summed every ${Math.round(this.#opts.windowMs / 60_000)} min`,
      details: { ...b, ruleId, uri: b.uri.slice(0, 1024) },
    });
  }

  #rollWindow(now: number): void {
    if (now - this.#windowStart < this.#opts.windowMs) return;
    this.#windowStart = now;
    this.#newPairs = 0;
    this.#flushFolded(now);
  }

  #flushFolded(now: number): void {
    for (const verb of VERBS) this.#flushFoldedOf(verb, now);
  }

  #flushFoldedOf(verb: Verb, now: number): void {
    const f = this.#folded[verb];
    if (f.count === 0) return;
    this.#raise({
      area: 'guard',
      kind: `guard.${verb}_many`,
      severity: 'high',
      message: `${f.count} more ${verb} requests from ${f.clients.size} clients on ${f.rules.size} rules (over the per-window alert limit)`,
      next: 'a wide attack: look at the Guard page (top clients, top rules)',
      details: {
        count: f.count,
        clients: [...f.clients].slice(0, 50),
        rules: [...f.rules].slice(0, 50),
        until: new Date(now).toISOString(),
      },
    });
    this.#folded[verb] = newFolded();
  }

  #flushPair(key: string, p: Pair, now: number, final: boolean): void {
    if (p.count === 0) {
      if (final || now - p.since >= this.#opts.windowMs) this.#pairs.delete(key);
      return;
    }
    if (!final && now - p.since < this.#opts.windowMs) return;
    this.#raise({
      area: 'guard',
      kind: `guard.${p.verb}_burst`,
      severity: p.count >= 100 ? 'high' : 'medium',
      message: `${p.count} more ${p.verb} requests from ${p.client} on rule ${p.ruleId} since ${new Date(p.since).toISOString()}`,
      next: `look at \`mamori guard matches --client ${p.client} --rule ${p.ruleId}\`; consider blocking the client upstream`,
      details: {
        ruleId: p.ruleId,
        client: p.client,
        count: p.count,
        since: new Date(p.since).toISOString(),
        until: new Date(now).toISOString(),
        lastUri: p.lastUri.slice(0, 1024),
        maxScore: p.maxScore,
      },
    });
    p.since = now;
    p.count = 0;
  }

  /** Raise the summaries whose window has passed. */
  tick(): void {
    const now = this.#opts.now();
    this.#rollWindow(now);
    for (const [key, p] of this.#pairs) this.#flushPair(key, p, now, false);
  }

  /** Raise every summary still counted and wait for all raises. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    const now = this.#opts.now();
    for (const [key, p] of this.#pairs) this.#flushPair(key, p, now, true);
    this.#flushFolded(now);
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
