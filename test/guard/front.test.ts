/**
 * The HTTP front's 400s (core/front.ts): each malformed form Apache's strict parser refuses, and
 * the well-formed neighbours that must reach the rules.
 */
import { describe, expect, it } from 'vitest';
import { frontReject } from '../../src/guard/core/front.js';
import type { HttpRequest } from '../../src/guard/core/request.js';

const req = (o: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  uri: '/',
  protocol: 'HTTP/1.1',
  headers: [['Host', 'localhost']],
  body: '',
  remoteAddr: '127.0.0.1',
  remotePort: 40000,
  serverPort: 80,
  ...o,
});

describe('HTTP front', () => {
  it('lets well-formed requests through', () => {
    expect(frontReject(req())).toBeUndefined();
    expect(frontReject(req({ method: 'OPTIONS', uri: '*' }))).toBeUndefined();
    expect(frontReject(req({ method: 'CONNECT', uri: 'example.org:443' }))).toBeUndefined();
    expect(frontReject(req({ uri: 'http://x/a?b=<script>' }))).toBeUndefined();
    // HTTP/1.0 may omit Host or leave it empty: the rules judge that (920280, 920290)
    expect(frontReject(req({ protocol: 'HTTP/1.0', headers: [['Host', '']] }))).toBeUndefined();
    expect(frontReject(req({ headers: [['Host', '[::1]:8080']] }))).toBeUndefined();
  });
  it('answers 400 to malformed request lines, targets and headers', () => {
    const bad: Array<Partial<HttpRequest>> = [
      { method: ' GET' },
      { method: '\tGET' },
      { protocol: 'HTTP/0.9' },
      { protocol: 'HTTP\\1.0' },
      { protocol: 'JUNK/1.0' },
      { protocol: '1.1' },
      { uri: '/#fragment' },
      { uri: '\\index.html' },
      { uri: '/a b' },
      { uri: '*' },
      { method: 'CONNECT', uri: 'www.example.org' },
      { headers: [['Host', '']] },
      { headers: [] },
      { headers: [['Host', 'localhost%00']] },
      {
        headers: [
          ['Host', 'a'],
          ['Host', 'b'],
        ],
      },
      {
        headers: [
          ['Host', 'a'],
          ['X', 'a\rb'],
        ],
      },
      {
        headers: [
          ['Host', 'a'],
          ['Bad Name', 'x'],
        ],
      },
      {
        headers: [
          ['Host', 'a'],
          ['Content-Length', '3;'],
        ],
      },
      {
        headers: [
          ['Host', 'a'],
          ['Content-Length', '3'],
          ['Content-Length', '4'],
        ],
      },
      {
        headers: [
          ['Host', 'a'],
          ['Content-Length', '3'],
          ['Transfer-Encoding', 'chunked'],
        ],
      },
    ];
    for (const b of bad) expect(frontReject(req(b)), JSON.stringify(b)).toBeTypeOf('string');
  });
});
