/**
 * RTSP/1.0 request parsing and the camera's answers (OPTIONS, DESCRIBE, SETUP, PLAY,
 * TEARDOWN, GET_PARAMETER) as pure functions. The stream itself is never sent: PLAY is answered
 * and recorded as a view. Not a media server.
 */

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  headers: Record<string, string>;
}

/** Longest request head accepted before it is garbage. */
export const MAX_RTSP_HEAD = 8192;

/**
 * Parse one request head (without the blank line). Undefined when malformed.
 * @example parseRtspRequest('OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1')?.method === 'OPTIONS'
 */
export function parseRtspRequest(head: string): RtspRequest | undefined {
  const lines = head.split(/\r?\n/);
  const m = /^([A-Z_]{3,20}) (\S{1,2048}) (RTSP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) return undefined;
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { method: m[1]!, uri: m[2]!, version: m[3]!, headers };
}

/** Basic credentials from an Authorization header (RTSP clients also use Basic). */
export function basicCredentials(
  header: string | undefined,
  decodeBase64: (s: string) => string,
): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,512})$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const text = decodeBase64(m[1]!);
  const i = text.indexOf(':');
  if (i < 0) return { username: text, password: '' };
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** Username from a Digest Authorization header (the password is not recoverable). */
export function digestUsername(header: string | undefined): string | undefined {
  const m = /^Digest\s.*\busername="([^"]{0,128})"/i.exec(header?.trim() ?? '');
  return m?.[1];
}

export function rtspResponse(
  status: number,
  reason: string,
  cseq: string | undefined,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`RTSP/1.0 ${status} ${reason}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq.replace(/[\r\n]/g, '').slice(0, 16)}`);
  lines.push('Server: Hipcam RealServer/V1.0');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The SDP a cheap camera returns for its main stream (H.264 video, no audio). */
export function cameraSdp(host: string): string {
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${host}`,
    's=IP Camera Video',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=control:*',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1;profile-level-id=4D001F',
    'a=control:trackID=1',
    '',
  ].join('\r\n');
}
