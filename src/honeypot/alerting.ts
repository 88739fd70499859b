/**
 * Alerts from the honeypot (DESIGN.md "Alerts"): the first contact of a run, and a source
 * reaching a new class at or above viewer (someone watched, operated, or tried malware).
 * A wrapper around the recorder's sink: the alert is raised after the event is durable and
 * never delays the answer to the attacker (alerts are best effort). Not the classifier.
 */
import type { AlertSink } from '../alerts/index.js';
import { SOURCE_CLASSES, SourceClassifier } from './core/classify.js';
import type { HoneypotEvent } from './core/events.js';
import type { EventSink } from './recorder.js';

const SEVERITY = { viewer: 'medium', operator: 'high', exploiter: 'high' } as const;
/** Sources remembered for class changes; the map starts over past this (memory bound). */
const MAX_SOURCES = 100_000;

/**
 * @example const sink = withAlerts(recorder, createAlertSink({ store }));
 */
export function withAlerts(inner: EventSink, alerts: AlertSink): EventSink {
  let classifier = new SourceClassifier();
  let sources = 0;
  let contacted = false;
  const raise = (a: Parameters<AlertSink['raise']>[0]) => {
    void alerts.raise(a).catch(() => {});
  };
  return {
    async record(ev: HoneypotEvent) {
      await inner.record(ev);
      if (!contacted && ev.eventid === 'session.connect') {
        contacted = true;
        raise({
          area: 'honeypot',
          kind: 'honeypot.first_contact',
          severity: 'low',
          message: `first contact with the camera honeypot from ${ev.srcIp} (${ev.protocol})`,
          next: 'mamori honeypot report',
          details: { source: ev.srcIp, protocol: ev.protocol, time: ev.time },
          time: ev.time,
        });
      }
      const before = classifier.classOf(ev.srcIp);
      if (before === undefined && ++sources > MAX_SOURCES) {
        classifier = new SourceClassifier();
        sources = 1;
      }
      classifier.add(ev);
      const after = classifier.classOf(ev.srcIp)!;
      if (
        after !== before &&
        (after === 'viewer' || after === 'operator' || after === 'exploiter')
      ) {
        raise({
          area: 'honeypot',
          kind: `honeypot.${after}`,
          severity: SEVERITY[after],
          message: `${ev.srcIp} became a${after === 'operator' || after === 'exploiter' ? 'n' : ''} ${after} of the camera honeypot (${ev.eventid})`,
          next:
            after === 'exploiter'
              ? 'see download.attempt events in mamori honeypot report; block the source and the URLs'
              : 'mamori honeypot report',
          details: {
            source: ev.srcIp,
            class: after,
            rung: SOURCE_CLASSES.indexOf(after),
            event: ev.eventid,
          },
          time: ev.time,
        });
      }
    },
  };
}
