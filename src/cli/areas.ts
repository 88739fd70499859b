/**
 * The list of areas the CLI knows, with one-line summaries for `mamori --help`. Each area's
 * verbs live in `commands/<area>.ts` and are imported only when that area is used.
 */
import type { AreaSpec } from './types.js';

export interface AreaEntry {
  name: string;
  summary: string;
  load(): Promise<AreaSpec>;
}

export const AREAS: AreaEntry[] = [
  {
    name: 'vuln',
    summary: 'vulnerability database (JVN iPedia, NVD, OSV), IPA-style stats, inventory checks',
    load: async () => (await import('./commands/vuln.js')).area,
  },
  {
    name: 'custody',
    summary: 'exchange custody: multisig tiers, PSBT signing, withdrawal policy, watcher',
    load: async () => (await import('./commands/custody.js')).area,
  },
  {
    name: 'trace',
    summary: 'taint tracing of stolen funds and deposit screening',
    load: async () => (await import('./commands/trace.js')).area,
  },
  {
    name: 'exposure',
    summary: 'scan and index your own address ranges: banners, fingerprints, default passwords',
    load: async () => (await import('./commands/exposure.js')).area,
  },
  {
    name: 'honeypot',
    summary: 'a camera honeypot that measures who comes and what they do',
    load: async () => (await import('./commands/honeypot.js')).area,
  },
  {
    name: 'bulletin',
    summary: 'security news: feeds, cross-outlet stories, three-line summaries, publishing',
    load: async () => (await import('./commands/bulletin.js')).area,
  },
  {
    name: 'serve',
    summary: 'run the dashboard and JSON API (127.0.0.1:8080 by default)',
    load: async () => (await import('./commands/serve.js')).area,
  },
  {
    name: 'db',
    summary: 'the store: migrate, status',
    load: async () => (await import('./commands/db.js')).area,
  },
  {
    name: 'config',
    summary: 'show the effective configuration and where each value came from',
    load: async () => (await import('./commands/config.js')).area,
  },
  {
    name: 'worker',
    summary: 'run queued and scheduled jobs from a shared PostgreSQL store; worker status',
    load: async () => (await import('./commands/worker.js')).area,
  },
  {
    name: 'schedule',
    summary: 'recurring jobs (vuln-sync, bulletin-fetch): add, list, remove, runs',
    load: async () => (await import('./commands/schedule.js')).area,
  },
  {
    name: 'user',
    summary: 'console users: add, list, disable, enable, passwd',
    load: async () => (await import('./commands/user.js')).area,
  },
  {
    name: 'token',
    summary: 'bearer tokens for scripts: create, list, revoke',
    load: async () => (await import('./commands/token.js')).area,
  },
  {
    name: 'guard',
    summary: 'an IPS/WAF: SecLang engine running the OWASP Core Rule Set, regression tests, proxy',
    load: async () => (await import('./commands/guard.js')).area,
  },
  {
    name: 'sensor',
    summary: 'honeypot sensors that report to this store: add, list, revoke',
    load: async () => (await import('./commands/sensor.js')).area,
  },
];
