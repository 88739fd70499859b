/**
 * The BlockSci regtest chain and its expected taint table, read from ../shared/vectors (never
 * copied): the rows of EXPECTED.md become test cases, so no figure is typed into a test.
 */
import { readFileSync } from 'node:fs';
import { parseBlockFile } from '../../src/trace/core/block.js';
import { buildGraph, orderBlocks, type TxGraph } from '../../src/trace/core/graph.js';
import { vector } from '../helpers/vectors.js';

export const BLK = () => vector('trace/blocksci-btc/blk00000.dat');

export function names(): Record<string, string | number> {
  return JSON.parse(readFileSync(vector('trace/blocksci-btc/output.json'), 'utf8'));
}

let cached: TxGraph | undefined;
export function chainGraph(): TxGraph {
  cached ??= buildGraph(orderBlocks(parseBlockFile(readFileSync(BLK())).blocks));
  return cached;
}

export interface ExpectedRow {
  line: string;
  model: 'poison' | 'haircut';
  start: string[];
  /** true/false, or undefined for BlockSci's default (which is true). */
  feeTaint: boolean | undefined;
  /** 'end' or an offset from h. */
  maxHeight: 'end' | number;
  outputs: number;
  totalValue: number | undefined;
  taintedValue: number | undefined;
}

const START_NAMES: Record<string, string> = {
  'split-1': 'taint-split-tx-1',
  'fund-2': 'taint-fund-tx-2',
  'mapping-fund-2': 'taint-mapping-fund-tx-2',
};

/** The start txids of a row (output 0 of each). */
export function startTxids(row: ExpectedRow): string[] {
  const n = names();
  return row.start.map((s) => {
    const key = START_NAMES[s];
    if (!key) throw new Error(`EXPECTED.md: unknown start name ${s}`);
    return String(n[key]);
  });
}

export function expectedRows(): ExpectedRow[] {
  const text = readFileSync(vector('trace/EXPECTED.md'), 'utf8');
  const rows: ExpectedRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 9 || (cells[1] !== 'poison' && cells[1] !== 'haircut')) continue;
    const [, model, start, fee, max, outs, total, tainted] = cells;
    const num = (s: string) => (s === '—' ? undefined : Number(s));
    const m = /^h(?:\+(\d+))?$/.exec(max!);
    rows.push({
      line,
      model: model as 'poison' | 'haircut',
      start: start!.split('+').map((s) => s.trim()),
      feeTaint: fee === 'True' ? true : fee === 'False' ? false : undefined,
      maxHeight: max === 'end' ? 'end' : Number(m?.[1] ?? 0),
      outputs: Number(outs),
      totalValue: num(total!),
      taintedValue: num(tainted!),
    });
  }
  if (rows.length < 19) throw new Error(`EXPECTED.md: only ${rows.length} rows parsed`);
  return rows;
}
