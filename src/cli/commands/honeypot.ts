/** `mamori honeypot …` verbs. Owned by the honeypot area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'honeypot',
  summary: 'a camera honeypot that measures who comes and what they do',
  verbs: {
    start: notYet('run the camera honeypot', 'mamori honeypot start [--profile camera]'),
    report: notYet('who came, how fast, what they did', 'mamori honeypot report [--since]'),
  },
};
