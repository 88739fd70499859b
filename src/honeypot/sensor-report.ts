/**
 * The sensors' share of the honeypot report: events delivered by sensors, read in pages per
 * sensor (by sequence number) into the same ReportBuilder as this machine's own events, so the
 * report merges them; or one sensor's alone for `honeypot report --sensor`.
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { ReportBuilder } from './core/report.js';
import { reportEvent } from './event-row.js';

/** @example await addSensorEvents(store, builder, null, 'tokyo-1'); */
export async function addSensorEvents(
  store: Store,
  builder: ReportBuilder,
  since: string | null,
  only: string | undefined,
): Promise<void> {
  let names: string[];
  if (only !== undefined) {
    const row = await store.db
      .selectFrom('honeypot_sensor')
      .select('name')
      .where('name', '=', only)
      .executeTakeFirst();
    if (!row)
      throw new MamoriError('E_NOT_FOUND', `no sensor named '${only}'`, {
        hint: 'mamori sensor list shows the sensors',
      });
    names = [only];
  } else {
    const rows = await store.db.selectFrom('honeypot_sensor').select('name').execute();
    names = rows.map((r) => r.name);
  }
  for (const sensor of names) {
    let lastSeq = 0;
    for (;;) {
      let q = store.db
        .selectFrom('honeypot_sensor_event')
        .select(['seq', 'eventid', 'time', 'src_ip', 'protocol', 'username', 'password', 'summary'])
        .where('sensor', '=', sensor)
        .where('seq', '>', lastSeq)
        .orderBy('seq')
        .limit(5000);
      if (since) q = q.where('time', '>=', since);
      const rows = await q.execute();
      if (rows.length === 0) break;
      for (const r of rows) builder.add(reportEvent(r));
      lastSeq = Number(rows[rows.length - 1]!.seq);
    }
  }
}
