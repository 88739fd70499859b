/**
 * The one alert sink (DESIGN.md "Alerts"): every area that raises alarms calls `raise()`.
 * An alert becomes a JSON line on the given writer, a row in the store's `alert` table and,
 * optionally, a POST to webhooks (generic JSON or Slack-compatible). Not a pager: delivery to
 * webhooks is best effort and never blocks the caller for more than its timeout.
 */
import type { Store } from '../storage/index.js';

/**
 * From least to most urgent: info < notice < low < medium < warning < high < critical.
 * `notice` (a change someone should know of: a new wallet, a policy change) and `warning` (a
 * condition to act on soon: a hot float over its cap, a refused test transfer) were added
 * later, in between, without moving the others (`SEVERITY_RANK`).
 */
export type AlertSeverity = 'info' | 'low' | 'medium' | 'high' | 'critical' | 'notice' | 'warning';

/** Urgency rank of each severity (higher is more urgent), for sorting and thresholds. */
export const SEVERITY_RANK: Record<AlertSeverity, number> = {
  info: 0,
  notice: 1,
  low: 2,
  medium: 3,
  warning: 4,
  high: 5,
  critical: 6,
};

export interface Alert {
  area: 'vuln' | 'custody' | 'trace' | 'exposure' | 'honeypot' | 'bulletin' | 'core' | 'guard';
  /** Stable kind, e.g. `custody.unapproved_outflow`, `custody.freeze`. */
  kind: string;
  severity: AlertSeverity;
  message: string;
  /** What the operator should do next. */
  next?: string;
  details?: Record<string, unknown>;
  /** ISO-8601 UTC; filled in when absent. */
  time?: string;
}

export interface Webhook {
  url: string;
  format?: 'json' | 'slack';
}

export interface AlertSinkOptions {
  store?: Store;
  /** Where JSON lines go (default: nothing). */
  write?: (line: string) => void;
  webhooks?: Webhook[];
  fetch?: typeof fetch;
  now?: () => number;
  webhookTimeoutMs?: number;
}

export interface AlertSink {
  raise(alert: Alert): Promise<Alert & { time: string }>;
}

/**
 * @example
 * const sink = createAlertSink({ store, write: (l) => process.stdout.write(l) });
 * await sink.raise({ area: 'custody', kind: 'custody.freeze', severity: 'critical', message: '…' });
 */
export function createAlertSink(options: AlertSinkOptions = {}): AlertSink {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? globalThis.fetch;
  return {
    async raise(alert) {
      const full = { ...alert, time: alert.time ?? new Date(now()).toISOString() };
      options.write?.(`${JSON.stringify({ type: 'alert', ...full })}\n`);
      if (options.store) {
        await options.store.db
          .insertInto('alert')
          .values({
            time: full.time,
            area: full.area,
            kind: full.kind,
            severity: full.severity,
            message: full.message,
            next_step: full.next ?? null,
            details: full.details ? JSON.stringify(full.details) : null,
          })
          .execute();
      }
      await Promise.all(
        (options.webhooks ?? []).map(async (hook) => {
          const body =
            hook.format === 'slack'
              ? {
                  text: `[${full.severity.toUpperCase()}] ${full.area}: ${full.message}${full.next ? `\nNext: ${full.next}` : ''}`,
                }
              : full;
          try {
            await doFetch(hook.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(options.webhookTimeoutMs ?? 5000),
            });
          } catch {
            // best effort: the alert is already on stdout and in the store
          }
        }),
      );
      return full;
    },
  };
}

/** The most recent alerts, newest first. */
export async function recentAlerts(store: Store, limit = 50) {
  return store.db.selectFrom('alert').selectAll().orderBy('id', 'desc').limit(limit).execute();
}
