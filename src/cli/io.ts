/**
 * The real process's input and output for the CLI: stdout that tolerates a closed pipe
 * (`mamori … | head`), TTY detection, and a no-echo prompt for passphrases.
 */
import { createInterface } from 'node:readline';
import type { Io } from './types.js';

export interface ProcessIo extends Io {
  flush(): Promise<void>;
  /** Set by long-running commands (serve) whose shutdown on a signal is a clean exit. */
}

export function makeProcessIo(): ProcessIo {
  let pipeClosed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') pipeClosed = true;
  });
  const io: ProcessIo = {
    stdout: (s) => {
      if (!pipeClosed) process.stdout.write(s);
    },
    stderr: (s) => {
      process.stderr.write(s);
    },
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    stdin: process.stdin,
    flush: () =>
      new Promise((resolve) => {
        if (pipeClosed || process.stdout.writableLength === 0) resolve();
        else process.stdout.once('drain', () => resolve());
      }),
  };
  if (process.stdin.isTTY) {
    io.prompt = (question, opts) =>
      new Promise((resolve) => {
        const rl = createInterface({
          input: process.stdin,
          output: process.stderr,
          terminal: true,
        });
        if (opts?.secret) {
          // Do not echo what is typed.
          (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (
            s: string,
          ) => {
            if (s.startsWith(question)) process.stderr.write(question);
          };
        }
        rl.question(question, (answer) => {
          rl.close();
          if (opts?.secret) process.stderr.write('\n');
          resolve(answer);
        });
      });
  }
  return io;
}
