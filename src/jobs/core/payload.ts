/**
 * What a job may ask a worker to do. A job is one allow-listed Mamori verb with its arguments:
 * the worker runs the same code as the CLI, so a scheduled sync and a hand-typed one behave
 * alike. Payloads come from the shared store, so they are checked again where they run:
 * an unknown kind, a store or config override, or a malformed argument list is refused.
 */
import { MamoriError } from '../../shared/errors.js';

/** Job kinds, their queue and the verb they run. */
export const JOB_KINDS = {
  'vuln-sync': { queue: 'sync', argv: ['vuln', 'sync'] },
  'bulletin-fetch': { queue: 'fetch', argv: ['bulletin', 'fetch'] },
  'exposure-scan': { queue: 'scan', argv: ['exposure', 'scan'] },
} as const;

export type JobKind = keyof typeof JOB_KINDS;

/** The queues a worker can serve. `audit` is reserved for exposure's credential audits. */
export const QUEUES = ['sync', 'fetch', 'scan', 'audit'] as const;
export type QueueName = (typeof QUEUES)[number];

export interface JobPayload {
  kind: JobKind;
  args: string[];
  /** The schedule that made it, if any. */
  schedule?: string;
}

/** Flags a job may not set: the worker chooses its own store, config and output. */
const FORBIDDEN = new Set(['--db', '--config', '--json', '--help', '-h', '--quiet', '-q']);
/** Flags that would make a job start more jobs, or reach outside its own work. */
const FORBIDDEN_BY_KIND: Partial<Record<string, ReadonlySet<string>>> = {
  'exposure-scan': new Set(['--distribute', '--shard-size', '--resume', '--lease']),
};

export function isJobKind(kind: unknown): kind is JobKind {
  return typeof kind === 'string' && Object.hasOwn(JOB_KINDS, kind);
}

/**
 * Check a payload read from the queue or given on the command line.
 * @example validatePayload({ kind: 'vuln-sync', args: ['--source', 'nvd'] })
 */
export function validatePayload(data: unknown): JobPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new MamoriError('E_INPUT', 'job payload is not an object');
  const { kind, args, schedule } = data as Record<string, unknown>;
  if (!isJobKind(kind)) {
    throw new MamoriError('E_INPUT', `unknown job kind: ${JSON.stringify(kind)}`, {
      hint: `one of ${Object.keys(JOB_KINDS).join(', ')}`,
    });
  }
  if (!Array.isArray(args) || args.length > 64 || args.some((a) => typeof a !== 'string'))
    throw new MamoriError('E_INPUT', `${kind}: args must be at most 64 strings`);
  for (const a of args as string[]) {
    if (a.length > 4096 || a.includes('\0'))
      throw new MamoriError('E_INPUT', `${kind}: an argument is too long or holds a NUL`);
    const flag = a.split('=')[0]!;
    if (FORBIDDEN.has(flag))
      throw new MamoriError('E_INPUT', `${kind}: ${flag} is set by the worker, not by a job`);
    if (FORBIDDEN_BY_KIND[kind]?.has(flag))
      throw new MamoriError('E_INPUT', `${kind}: ${flag} is not allowed in a job`);
  }
  if (schedule !== undefined && typeof schedule !== 'string')
    throw new MamoriError('E_INPUT', `${kind}: schedule must be a string`);
  return {
    kind,
    args: [...(args as string[])],
    ...(typeof schedule === 'string' ? { schedule } : {}),
  };
}
