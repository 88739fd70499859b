/**
 * The one migration list: every area's migrations, run in name order. Each area edits only its
 * own file beside this one.
 */

import { accessMigrations } from './access.js';
import { bulletinMigrations } from './bulletin.js';
import { coreMigrations } from './core.js';
import { custodyMigrations } from './custody.js';
import { exposureMigrations } from './exposure.js';
import { guardMigrations } from './guard.js';
import { honeypotMigrations } from './honeypot.js';
import { jobsMigrations } from './jobs.js';
import { traceMigrations } from './trace.js';
import type { MigrationSet } from './types.js';
import { vulnMigrations } from './vuln.js';

export function allMigrations(): MigrationSet {
  const sets = [
    coreMigrations,
    vulnMigrations,
    custodyMigrations,
    traceMigrations,
    exposureMigrations,
    honeypotMigrations,
    bulletinMigrations,
    jobsMigrations,
    accessMigrations,
    guardMigrations,
  ];
  const all: MigrationSet = {};
  for (const set of sets) {
    for (const [name, m] of Object.entries(set)) {
      if (name in all) throw new Error(`duplicate migration name ${name}`);
      all[name] = m;
    }
  }
  return all;
}
