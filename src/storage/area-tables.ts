/**
 * The join point of every area's table types. Each area declares its rows in its own
 * `src/<area>/schema.ts` (types only), so areas are built in parallel without touching this file.
 */
import type { AccessTables } from '../access/schema.js';
import type { BulletinTables } from '../bulletin/schema.js';
import type { CustodyTables } from '../custody/schema.js';
import type { CustodyWatchTables } from '../custody/watch-schema.js';
import type { ExposureTables } from '../exposure/schema.js';
import type { GuardTables } from '../guard/schema.js';
import type { HoneypotTables } from '../honeypot/schema.js';
import type { HoneypotSensorTables } from '../honeypot/sensor-schema.js';
import type { JobsTables } from '../jobs/schema.js';
import type { TraceTables } from '../trace/schema.js';
import type { VulnTables } from '../vuln/schema.js';

export type AreaTables = VulnTables &
  CustodyTables &
  TraceTables &
  ExposureTables &
  HoneypotTables &
  BulletinTables &
  JobsTables &
  CustodyWatchTables &
  AccessTables &
  GuardTables &
  HoneypotSensorTables;
