#!/usr/bin/env node
/**
 * The `mamori` executable: wires the real process to runCli(). The only process.exit in the
 * project lives here. The first SIGINT/SIGTERM aborts the running command (which stops
 * cleanly: `serve` closes its sockets and store); a second one exits 130 at once.
 */
import { makeProcessIo } from './io.js';
import { runCli } from './main.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals) => {
  signals++;
  if (signals > 1) process.exit(130);
  controller.abort(new Error(sig));
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

const io = makeProcessIo();
runCli(process.argv.slice(2), { io, signal: controller.signal }).then(
  async (code) => {
    await io.flush();
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`mamori: internal error: ${String(err)}\n`);
    process.exit(70);
  },
);
