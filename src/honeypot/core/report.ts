/**
 * The measurement report (`mamori honeypot report`): time to first contact, login, view and
 * operation; sources per class; credentials tried with the botnet-default share; commands; a
 * per-day timeline; and the CSV export. Pure: events are fed in time order by the shell.
 */
import { SourceClassifier } from './classify.js';
import { isBotnetDefault } from './credentials.js';
import type { EventId } from './events.js';

/** The source recorded when a connection's peer address could not be read (services/session.ts). */
const UNKNOWN_SOURCE = '?';

/** The credential key's stand-in for an unknown password (no typed password holds U+0001). */
const UNKNOWN = '\u0001';

/** The part of an event the report needs. */
export interface ReportEvent {
  eventid: EventId;
  time: string;
  srcIp: string;
  protocol: string;
  username?: string | null | undefined;
  password?: string | null | undefined;
  summary: Record<string, unknown>;
}

export interface FirstTime {
  at: string;
  source: string;
  /** Seconds from the reference start (the honeypot's first start in the window). */
  afterSeconds: number;
}

export interface CredentialRow {
  username: string;
  /**
   * null = not known: a digest (RTSP Digest, WS-Security PasswordDigest) that matched no
   * password we could check hides what was tried. Never reported as an empty password.
   */
  password: string | null;
  attempts: number;
  /** Distinct sources that tried it. */
  sources: number;
  botnetDefault: boolean;
}

export interface TimelineRow {
  day: string;
  events: number;
  sources: number;
  logins: number;
  views: number;
  operations: number;
  downloads: number;
}

export interface HoneypotReport {
  first: {
    contact: FirstTime | null;
    login: FirstTime | null;
    view: FirstTime | null;
    operation: FirstTime | null;
  };
  sources: {
    total: number;
    scanner: number;
    grabber: number;
    guesser: number;
    viewer: number;
    operator: number;
    exploiter: number;
  };
  credentials: CredentialRow[];
  timeline: TimelineRow[];
}

/** What the human report and CSV add beyond the JSON's fixed shape. */
export interface ReportExtras {
  since: string | null;
  startedAt: string | null;
  events: number;
  loginAttempts: number;
  /** Share of all login attempts (0–1) that used a known botnet default. */
  botnetShare: number;
  commands: { command: string; count: number }[];
  downloads: { url: string; count: number }[];
  classes: [string, string][];
  /**
   * Connections whose source address could not be read at all (reset before accept, where
   * the kernel would not say either): counted here, never as a source of their own.
   */
  unattributed: number;
}

export interface ReportOptions {
  /** Reference start for the "first" times (ISO); the first event when absent. */
  startedAt?: string | null;
  since?: string | null;
  topN?: number;
}

/**
 * @example
 * const b = new ReportBuilder({ startedAt: '2026-11-25T00:00:00.000Z' });
 * for (const ev of events) b.add(ev);
 * const { report } = b.finish();
 */
export class ReportBuilder {
  readonly #classifier = new SourceClassifier();
  readonly #first: HoneypotReport['first'] = {
    contact: null,
    login: null,
    view: null,
    operation: null,
  };
  readonly #creds = new Map<string, { attempts: number; sources: Set<string> }>();
  readonly #commands = new Map<string, number>();
  readonly #downloads = new Map<string, number>();
  readonly #days = new Map<string, TimelineRow & { srcSet: Set<string> }>();
  readonly #opts: ReportOptions;
  #startMs: number | null;
  #events = 0;
  #loginAttempts = 0;
  #botnetAttempts = 0;
  #unattributed = 0;

  constructor(opts: ReportOptions = {}) {
    this.#opts = opts;
    this.#startMs = opts.startedAt ? Date.parse(opts.startedAt) : null;
  }

  add(ev: ReportEvent): void {
    this.#events++;
    const t = Date.parse(ev.time);
    if (this.#startMs === null) this.#startMs = t;
    if (ev.srcIp === UNKNOWN_SOURCE) {
      if (ev.eventid === 'session.connect') this.#unattributed++;
      return;
    }
    this.#classifier.add({ srcIp: ev.srcIp, eventid: ev.eventid, summary: ev.summary });
    // Events arrive in commit order; with several sensors on one store that is not quite time
    // order, so keep the earliest time seen rather than the first row read.
    const first = (key: keyof HoneypotReport['first']) => {
      const prev = this.#first[key];
      if (prev === null || t < Date.parse(prev.at)) {
        this.#first[key] = {
          at: ev.time,
          source: ev.srcIp,
          afterSeconds: Math.round((t - this.#startMs!) / 1000),
        };
      }
    };
    const day = ev.time.slice(0, 10);
    let row = this.#days.get(day);
    if (!row) {
      row = {
        day,
        events: 0,
        sources: 0,
        logins: 0,
        views: 0,
        operations: 0,
        downloads: 0,
        srcSet: new Set(),
      };
      this.#days.set(day, row);
    }
    row.events++;
    row.srcSet.add(ev.srcIp);
    switch (ev.eventid) {
      case 'session.connect':
        first('contact');
        break;
      case 'login.success':
      case 'login.failed': {
        if (ev.eventid === 'login.success') {
          first('login');
          row.logins++;
        }
        const u = ev.username ?? '';
        // An event with no password is a digest guess: its password is unknown, not empty.
        const p = ev.password ?? null;
        this.#loginAttempts++;
        if (p !== null && isBotnetDefault(u, p)) this.#botnetAttempts++;
        const key = `${u}\u0000${p ?? UNKNOWN}`;
        let c = this.#creds.get(key);
        if (!c) {
          c = { attempts: 0, sources: new Set() };
          this.#creds.set(key, c);
        }
        c.attempts++;
        c.sources.add(ev.srcIp);
        break;
      }
      case 'stream.view':
        first('view');
        row.views++;
        break;
      case 'ptz.command':
        first('operation');
        row.operations++;
        break;
      case 'telnet.command': {
        const cmd = String(ev.summary.command ?? '');
        this.#commands.set(cmd, (this.#commands.get(cmd) ?? 0) + 1);
        break;
      }
      case 'download.attempt': {
        row.downloads++;
        const url = String(ev.summary.url ?? '');
        this.#downloads.set(url, (this.#downloads.get(url) ?? 0) + 1);
        break;
      }
      default:
        break;
    }
  }

  /**
   * The report so far. It does not change the builder: more events may be added after it and
   * `finish` called again (the console keeps one builder and feeds it only the new events).
   */
  finish(topN = this.#opts.topN ?? 20): { report: HoneypotReport; extras: ReportExtras } {
    const credentials: CredentialRow[] = [...this.#creds.entries()]
      .map(([key, c]) => {
        const [username, stored] = key.split('\u0000') as [string, string];
        const password = stored === UNKNOWN ? null : stored;
        return {
          username,
          password,
          attempts: c.attempts,
          sources: c.sources.size,
          botnetDefault: password !== null && isBotnetDefault(username, password),
        };
      })
      .sort(
        (a, b) =>
          b.attempts - a.attempts ||
          a.username.localeCompare(b.username) ||
          (a.password ?? UNKNOWN).localeCompare(b.password ?? UNKNOWN),
      )
      .slice(0, topN);
    const timeline = [...this.#days.values()]
      .sort((a, b) => a.day.localeCompare(b.day))
      .map(({ srcSet, ...r }) => ({ ...r, sources: srcSet.size }));
    const top = (m: Map<string, number>) =>
      [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, topN);
    return {
      report: {
        first: { ...this.#first },
        sources: this.#classifier.counts(),
        credentials,
        timeline,
      },
      extras: {
        since: this.#opts.since ?? null,
        startedAt: this.#startMs === null ? null : new Date(this.#startMs).toISOString(),
        events: this.#events,
        loginAttempts: this.#loginAttempts,
        botnetShare: this.#loginAttempts ? this.#botnetAttempts / this.#loginAttempts : 0,
        commands: top(this.#commands).map(([command, count]) => ({ command, count })),
        downloads: top(this.#downloads).map(([url, count]) => ({ url, count })),
        classes: this.#classifier.entries(),
        unattributed: this.#unattributed,
      },
    };
  }
}

/** RFC 4180 field quoting; a leading =,+,-,@ is prefixed with ' so spreadsheets never run it. */
export function csvField(v: string | number | boolean | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_TABLES = ['timeline', 'credentials', 'sources', 'commands'] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

/**
 * One table of the report as CSV.
 * @example reportCsv(report, extras, 'timeline').startsWith('day,events')
 */
export function reportCsv(report: HoneypotReport, extras: ReportExtras, table: CsvTable): string {
  const rows: (string | number | boolean | null)[][] = [];
  switch (table) {
    case 'timeline':
      rows.push(['day', 'events', 'sources', 'logins', 'views', 'operations', 'downloads']);
      for (const r of report.timeline)
        rows.push([r.day, r.events, r.sources, r.logins, r.views, r.operations, r.downloads]);
      break;
    case 'credentials':
      rows.push([
        'username',
        'password',
        'password_known',
        'attempts',
        'sources',
        'botnet_default',
      ]);
      for (const c of report.credentials)
        rows.push([
          c.username,
          c.password,
          c.password !== null,
          c.attempts,
          c.sources,
          c.botnetDefault,
        ]);
      break;
    case 'sources':
      rows.push(['source', 'class']);
      for (const [ip, cls] of [...extras.classes].sort((a, b) => a[0].localeCompare(b[0])))
        rows.push([ip, cls]);
      break;
    case 'commands':
      rows.push(['command', 'count']);
      for (const c of extras.commands) rows.push([c.command, c.count]);
      break;
  }
  return `${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}
