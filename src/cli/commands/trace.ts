/** `mamori trace …` verbs: ingest, tag, taint, screen. Owned by the trace area. */
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, ParsedValues } from '../types.js';

const btc = (sat: number) => `${(sat / 1e8).toFixed(8)} BTC`;

function parseModel(v: unknown): 'poison' | 'haircut' {
  if (v === 'poison' || v === 'haircut') return v;
  throw new MamoriError('E_USAGE', `--model must be poison or haircut, not "${String(v)}"`);
}

function parseMaxHeight(v: unknown): number | `+${number}` | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim();
  if (/^\+\d{1,9}$/.test(s)) return s as `+${number}`;
  if (/^\d{1,9}$/.test(s)) return Number(s);
  throw new MamoriError('E_USAGE', `--max-height must be a height or +N, not "${s}"`);
}

function parseShare(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s);
  if (!m)
    throw new MamoriError('E_USAGE', `${name} must be a fraction (0.1) or a percentage (10%)`);
  const x = Number(m[1]) / (m[2] ? 100 : 1);
  if (x > 1) throw new MamoriError('E_USAGE', `${name} must be at most 1 (100%)`);
  return x;
}

const list = (v: ParsedValues[string]): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [String(v)];

export const area: AreaSpec = {
  name: 'trace',
  summary: 'taint tracing of stolen funds and deposit screening',
  description:
    'Follow stolen coins forward through the Bitcoin transaction graph (poison and haircut\nmodels, after BlockSci) and screen deposits against tagged funds.',
  verbs: {
    ingest: {
      summary: 'read blocks (blk*.dat files or a JSON-RPC node) into the trace graph',
      usage: 'mamori trace ingest <blk*.dat…> | --node <url> [--from <h>] [--to <h>] [--json]',
      examples: [
        'mamori trace ingest ~/.bitcoin/regtest/blocks/blk00000.dat',
        'mamori trace ingest --node http://user:pass@127.0.0.1:18443 --from 0',
      ],
      description:
        'Everything is parsed first and stored in one transaction; blocks already stored are\nskipped, so ingesting a file twice changes nothing.',
      options: {
        node: {
          type: 'string',
          value: '<url>',
          description: 'Bitcoin Core-compatible JSON-RPC URL',
        },
        from: { type: 'string', value: '<height>', description: 'first height to fetch (--node)' },
        to: { type: 'string', value: '<height>', description: 'last height to fetch (--node)' },
      },
      positionals: { min: 0, name: 'blk*.dat' },
      async run(ctx, { values, positionals }) {
        const trace = await import('../../trace/index.js');
        const store = await ctx.store();
        const progress = ctx.progress('ingest');
        let summary:
          | Awaited<ReturnType<typeof trace.ingestFiles>>
          | Awaited<ReturnType<typeof trace.ingestFromNode>>;
        if (values.node !== undefined) {
          if (positionals.length > 0)
            throw new MamoriError('E_USAGE', 'give block files or --node, not both');
          const int = (v: unknown, name: string) => {
            if (v === undefined) return undefined;
            if (!/^\d+$/.test(String(v)))
              throw new MamoriError('E_USAGE', `${name} must be a height`);
            return Number(v);
          };
          const from = int(values.from, '--from');
          const to = int(values.to, '--to');
          summary = await trace.ingestFromNode(store, String(values.node), {
            progress,
            signal: ctx.signal,
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
          });
        } else {
          if (positionals.length === 0) {
            throw new MamoriError('E_USAGE', 'no block files given', {
              hint: 'mamori trace ingest <blk*.dat…> or --node <url>',
            });
          }
          summary = await trace.ingestFiles(store, positionals, { progress });
        }
        progress.done();
        ctx.print(summary, () =>
          summary.blocks === 0
            ? `nothing new: ${summary.skipped} block(s) already stored (tip ${summary.tipHeight})`
            : `stored ${summary.blocks} block(s), ${summary.txs} transaction(s), ${summary.outputs} output(s); tip height ${summary.tipHeight}${summary.skipped ? `; ${summary.skipped} already stored` : ''}`,
        );
        return 0;
      },
    },
    tag: {
      summary: 'tag stolen funds (an outpoint or an address) with a label',
      usage: 'mamori trace tag <txid:vout|address> --label <text> [--source <text>] [--json]',
      examples: ['mamori trace tag 5f3c…e1:0 --label nem-2018 --source "incident report"'],
      options: {
        label: {
          type: 'string',
          value: '<text>',
          description: 'the label, e.g. nem-2018 (required)',
        },
        source: {
          type: 'string',
          value: '<text>',
          description: 'where the tag comes from (default manual)',
        },
      },
      positionals: { min: 1, max: 1, name: 'txid:vout|address' },
      async run(ctx, { values, positionals }) {
        if (typeof values.label !== 'string')
          throw new MamoriError('E_USAGE', '--label is required');
        const trace = await import('../../trace/index.js');
        const tag = await trace.tagFunds(await ctx.store(), {
          target: positionals[0]!,
          label: values.label,
          ...(typeof values.source === 'string' ? { source: values.source } : {}),
        });
        ctx.print(
          tag,
          () =>
            `tagged ${tag.kind} ${tag.target} as "${tag.label}" (${tag.outputs} output(s), ${btc(tag.value)} in the store)`,
        );
        return 0;
      },
    },
    taint: {
      summary: 'propagate taint from tagged or given outputs',
      usage:
        'mamori trace taint --model poison|haircut [--from <txid:vout>…|--label <tag>] [--fee-taint] [--max-height <h>|+N] [--json]',
      examples: [
        'mamori trace taint --model haircut --label nem-2018 --fee-taint',
        'mamori trace taint --model poison --from 5f3c…e1:0 --max-height +1 --json',
      ],
      description:
        'Prints the tainted outputs unspent at the maximum height, their total value and the\ntainted value (satoshi). Haircut rounds each output down (BlockSci rule; see docs/trace.md).',
      options: {
        model: { type: 'string', value: 'poison|haircut', description: 'taint model (required)' },
        from: {
          type: 'string',
          multiple: true,
          value: '<txid:vout>',
          description: 'a start output (repeatable)',
        },
        label: {
          type: 'string',
          value: '<tag>',
          description: 'start from every output tagged with this label',
        },
        'fee-taint': { type: 'boolean', description: 'follow tainted fees into the coinbase' },
        'max-height': {
          type: 'string',
          value: '<h>|+N',
          description: 'last block height (+N: relative to the first start)',
        },
        record: { type: 'boolean', description: 'keep the result in the store (trace_result)' },
      },
      async run(ctx, { values }) {
        const trace = await import('../../trace/index.js');
        const model = parseModel(values.model);
        const start = list(values.from).map((s) => trace.parseOutpoint(s));
        const maxHeight = parseMaxHeight(values['max-height']);
        const r = await trace.taintFromStore(await ctx.store(), {
          model,
          start,
          ...(typeof values.label === 'string' ? { label: values.label } : {}),
          feeTaint: values['fee-taint'] === true,
          maxHeight,
          record: values.record === true,
        });
        const out = {
          model: r.model,
          feeTaint: r.feeTaint,
          maxHeight: r.maxHeight,
          label: r.label,
          start: r.start.map((s) => `${s.txid}:${s.vout}`),
          outputs: r.outputs,
          outputCount: r.outputs.length,
          totalValue: r.totalValue,
          taintedValue: r.taintedValue,
          startValue: r.startValue,
          toFees: r.toFees,
          burned: r.burned,
          roundingLoss: r.roundingLoss,
          absorbed: r.absorbed,
        };
        ctx.print(out, () =>
          [
            formatTable(
              ['output', 'height', 'address', 'value (sat)', 'tainted (sat)'],
              r.outputs.map((o) => [
                `${o.txid}:${o.vout}`,
                o.height,
                o.address ?? '',
                o.value,
                o.tainted,
              ]),
            ),
            '',
            `${r.outputs.length} output(s); total ${r.totalValue} sat (${btc(r.totalValue)}); tainted ${r.taintedValue} sat (${btc(r.taintedValue)})`,
            `model ${r.model}, fee taint ${r.feeTaint ? 'on' : 'off'}, max height ${r.maxHeight ?? 'none'}; start ${r.startValue} sat, to fees ${r.toFees}, burned ${r.burned}, rounding ${r.roundingLoss}`,
          ].join('\n'),
        );
        return 0;
      },
    },
    screen: {
      summary: 'screen a deposit against tagged funds (exit 4 on refuse)',
      usage:
        'mamori trace screen <txid|txid:vout|address> [--model haircut|poison] [--review-at 0.1%] [--refuse-at 10%] [--json]',
      examples: [
        'mamori trace screen 5f3c…e1',
        'mamori trace screen bcrt1q… --refuse-at 5% --json',
      ],
      description:
        'accept below --review-at, review from --review-at, refuse (exit 4) from --refuse-at:\nthe tainted share of the deposit, by default with the haircut model.',
      options: {
        model: {
          type: 'string',
          value: 'haircut|poison',
          description: 'taint model (default haircut)',
        },
        'fee-taint': { type: 'boolean', description: 'follow tainted fees into coinbases' },
        'review-at': {
          type: 'string',
          value: '<share>',
          description: 'tainted share to review at (default 0.1%)',
        },
        'refuse-at': {
          type: 'string',
          value: '<share>',
          description: 'tainted share to refuse at (default 10%)',
        },
      },
      positionals: { min: 1, max: 1, name: 'txid|address' },
      async run(ctx, { values, positionals }) {
        const trace = await import('../../trace/index.js');
        const reviewAt = parseShare(values['review-at'], '--review-at');
        const refuseAt = parseShare(values['refuse-at'], '--refuse-at');
        const r = await trace.screenDeposit(await ctx.store(), positionals[0]!, {
          model: values.model === undefined ? 'haircut' : parseModel(values.model),
          feeTaint: values['fee-taint'] === true,
          ...(reviewAt !== undefined ? { reviewAt } : {}),
          ...(refuseAt !== undefined ? { refuseAt } : {}),
        });
        ctx.print(r, () =>
          [
            `${r.verdict.toUpperCase()}: ${r.taintedValue} of ${r.depositValue} sat tainted (${(r.ratio * 100).toFixed(4)}%, ${r.model})`,
            ...r.sources.map(
              (s) => `  from "${s.label}" (${s.sources.join(', ')}): ${s.taintedValue} sat`,
            ),
          ].join('\n'),
        );
        return r.verdict === 'refuse' ? 4 : 0;
      },
    },
  },
};
