/** `mamori schedule add|list|remove|runs`: recurring jobs that workers run once per period. */
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec } from '../types.js';

export const area: AreaSpec = {
  name: 'schedule',
  summary: 'recurring jobs (vuln-sync, bulletin-fetch) that workers run once per period',
  verbs: {
    add: {
      summary: "add a recurring job; arguments after the kind are the verb's own flags",
      usage: 'mamori schedule add <vuln-sync|bulletin-fetch> --every <period> [verb flags…]',
      examples: [
        'mamori schedule add vuln-sync --every 6h --source nvd',
        'mamori schedule add bulletin-fetch --every 30m',
      ],
      description:
        'The period is an integer and a unit (30s, 15m, 6h, 1d). Each period runs once, whichever\nworker claims it. The flags after the kind are checked by the verb when the job runs.',
      options: {
        every: { type: 'string', value: '<period>', description: 'how often (30s, 15m, 6h, 1d)' },
      },
      strict: false,
      positionals: { min: 1, name: 'KIND' },
      async run(ctx, { values, positionals, raw }) {
        const jobs = await import('../../jobs/index.js');
        const kind = positionals[0];
        if (!jobs.isJobKind(kind))
          throw new MamoriError('E_USAGE', `unknown job kind '${kind}'`, {
            hint: `one of ${Object.keys(jobs.JOB_KINDS).join(', ')}`,
          });
        if (typeof values.every !== 'string')
          throw new MamoriError('E_USAGE', '--every is required', { hint: 'e.g. --every 6h' });
        const everySeconds = jobs.parseEvery(values.every);
        const args = verbArgs(raw ?? [], kind);
        const { checkVerbArgs } = await import('../main.js');
        const path = jobs.JOB_KINDS[kind].argv;
        await checkVerbArgs([path[0], path[1]], args);
        jobs.validatePayload({ kind, args });
        const s = await jobs.addSchedule(await ctx.store(), { kind, everySeconds, args });
        ctx.print(
          s,
          () =>
            `schedule ${s.id}: ${s.kind} every ${jobs.formatEvery(s.everySeconds)} ${s.args.join(' ')}`,
        );
        return 0;
      },
    },
    list: {
      summary: 'list the schedules',
      usage: 'mamori schedule list [--json]',
      async run(ctx) {
        const jobs = await import('../../jobs/index.js');
        const list = await jobs.listSchedules(await ctx.store());
        ctx.print(list, () =>
          formatTable(
            ['id', 'kind', 'every', 'args', 'created'],
            list.map((s) => [
              s.id,
              s.kind,
              jobs.formatEvery(s.everySeconds),
              s.args.join(' '),
              s.createdAt,
            ]),
          ),
        );
        return 0;
      },
    },
    remove: {
      summary: 'remove a schedule (a run already queued still runs)',
      usage: 'mamori schedule remove <id>',
      positionals: { min: 1, max: 1, name: 'ID' },
      async run(ctx, { positionals }) {
        const jobs = await import('../../jobs/index.js');
        const id = positionals[0]!;
        if (!(await jobs.removeSchedule(await ctx.store(), id)))
          throw new MamoriError('E_NOT_FOUND', `no schedule ${id}`, {
            hint: 'see mamori schedule list',
          });
        ctx.print({ removed: id }, () => `removed schedule ${id}`);
        return 0;
      },
    },
    runs: {
      summary: 'the periods a schedule was claimed in, newest first, with the worker and job',
      usage: 'mamori schedule runs <id> [--json]',
      positionals: { min: 1, max: 1, name: 'ID' },
      async run(ctx, { positionals }) {
        const jobs = await import('../../jobs/index.js');
        const runs = await jobs.scheduleRuns(await ctx.store(), positionals[0]!);
        ctx.print(runs, () =>
          formatTable(
            ['slot', 'claimed by', 'at', 'job'],
            runs.map((r) => [r.slot, r.claimedBy, r.claimedAt, r.jobId ?? '']),
          ),
        );
        return 0;
      },
    },
  },
};

/** Global flags that belong to this command, not to the scheduled verb (with a value or not). */
const OWN_WITH_VALUE = new Set(['--every', '--db', '--config']);
const OWN_FLAGS = new Set(['--json', '--quiet', '-q']);

/** The scheduled verb's own flags: everything given except the kind and this command's flags. */
function verbArgs(raw: string[], kind: string): string[] {
  const out: string[] = [];
  let kindSeen = false;
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    const name = a.split('=')[0]!;
    if (OWN_WITH_VALUE.has(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    if (OWN_FLAGS.has(a)) continue;
    if (!kindSeen && a === kind) {
      kindSeen = true;
      continue;
    }
    out.push(a);
  }
  return out;
}
