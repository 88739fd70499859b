/**
 * The client of `cosigner serve`: send a PSBT and its evidence to the independent cosigner and
 * take back its signature (`custody cosigner sign`). Authenticated by the Bearer token, by a
 * client certificate (mutual TLS), or both. The answer is not trusted either: the returned PSBT
 * must be the same unsigned transaction with one more valid signature on its inputs, or nothing
 * is written. Not the service itself (`cosigner.ts`).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ERROR_CODES, type ErrorCode, MamoriError } from '../shared/errors.js';
import { network } from './core/network.js';
import { decodePsbt, encodePsbt, inspectPsbt } from './core/psbt.js';
import { readPem } from './cosigner.js';

export interface CosignerClientTls {
  /** PEM client certificate and key (mutual TLS). */
  cert?: Buffer;
  key?: Buffer;
  /** PEM CA (or the server's own certificate) to trust instead of the system's CAs. */
  ca?: Buffer;
}

export interface CosignResult {
  psbt: string;
  txid: string;
  /** Inputs the cosigner signed. */
  signed: number;
  withdrawals: number[];
}

const MAX_ANSWER = 16 * 1024 * 1024;

/**
 * Read the client's TLS files: its certificate and key (the key readable by its owner only,
 * else E_CONFIG) and the CA to trust for the cosigner's certificate.
 * @example readCosignerClientTls({ certFile: 'hot.pem', keyFile: 'hot.key', caFile: 'srv.pem' })
 */
export function readCosignerClientTls(f: {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}): CosignerClientTls {
  return {
    ...(f.certFile ? { cert: readPem(f.certFile, 'client certificate', false) } : {}),
    ...(f.keyFile ? { key: readPem(f.keyFile, 'client key', true) } : {}),
    ...(f.caFile ? { ca: readPem(f.caFile, 'CA certificate', false) } : {}),
  };
}

/**
 * POST the PSBT and its evidence to `<url>/v1/cosign`. A refusal comes back as the cosigner's
 * own error (code and reason kept: E_POLICY exits 4); an unreachable cosigner or a failed TLS
 * handshake is E_NETWORK; an answer that is not our transaction with more signatures is E_AUTH.
 * @example const r = await requestCosign({ url: 'https://10.0.0.5:8737', psbt, evidence, token })
 */
export async function requestCosign(o: {
  url: string;
  psbt: string;
  /** Omitted: the cosigner reads the evidence embedded in the PSBT. */
  evidence?: unknown;
  token?: string;
  tls?: CosignerClientTls;
  timeoutMs?: number;
}): Promise<CosignResult> {
  let target: URL;
  try {
    target = new URL('/v1/cosign', o.url);
  } catch (e) {
    throw new MamoriError('E_USAGE', `not a cosigner URL: ${o.url}`, { cause: e });
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new MamoriError(
      'E_USAGE',
      `a cosigner URL is http:// or https://, not ${target.protocol}`,
    );
  }
  if (target.protocol === 'http:' && (o.tls?.cert || o.tls?.ca)) {
    throw new MamoriError('E_USAGE', 'client certificates need an https:// cosigner URL');
  }
  const body = JSON.stringify({
    psbt: o.psbt,
    ...(o.evidence === undefined ? {} : { evidence: o.evidence }),
  });
  const { status, text } = await post(target, body, o);
  let answer: {
    psbt?: string;
    withdrawals?: unknown;
    error?: { code?: string; reason?: string; message?: string };
  };
  try {
    answer = JSON.parse(text);
  } catch {
    throw new MamoriError('E_NETWORK', `the cosigner answered ${status} with no JSON`);
  }
  if (status !== 200 || !answer.psbt) {
    const e = answer.error ?? {};
    const code = (ERROR_CODES as readonly string[]).includes(e.code ?? '')
      ? (e.code as ErrorCode)
      : 'E_NETWORK';
    throw new MamoriError(code, `the cosigner refused (${status}): ${e.message ?? 'no reason'}`, {
      details: { status, ...(e.reason ? { reason: e.reason } : {}) },
    });
  }
  const withdrawals = Array.isArray(answer.withdrawals)
    ? answer.withdrawals.filter((x): x is number => Number.isInteger(x))
    : [];
  return { ...checkAnswer(o.psbt, answer.psbt), withdrawals };
}

/** The answer must be our unsigned transaction, with more valid signatures than we sent. */
function checkAnswer(sent: string, got: string): Omit<CosignResult, 'withdrawals'> {
  const ours = decodePsbt(sent);
  let theirs: ReturnType<typeof decodePsbt>;
  try {
    theirs = decodePsbt(got);
  } catch (e) {
    throw new MamoriError('E_AUTH', 'the cosigner answered with something that is not a PSBT', {
      cause: e,
    });
  }
  if (theirs.id !== ours.id) {
    throw new MamoriError('E_AUTH', 'the cosigner answered with another transaction: not written', {
      details: { sent: ours.id, got: theirs.id },
    });
  }
  // network only names addresses here; the signature counts do not depend on it
  const before = inspectPsbt(ours, network('regtest')).inputs;
  const after = inspectPsbt(theirs, network('regtest')).inputs;
  const signed = after.filter((x, i) => x.validSignatures > before[i]!.validSignatures).length;
  if (signed === 0) {
    throw new MamoriError('E_AUTH', 'the cosigner answered without a new valid signature');
  }
  return { psbt: encodePsbt(theirs), txid: theirs.id, signed };
}

function post(
  url: URL,
  body: string,
  o: { token?: string; tls?: CosignerClientTls; timeoutMs?: number },
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
  };
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_ANSWER) res.destroy(new Error('answer too large'));
        else chunks.push(d);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', fail);
    };
    const fail = (e: Error) =>
      reject(
        new MamoriError('E_NETWORK', `cannot reach the cosigner at ${url.origin}: ${e.message}`, {
          cause: e,
          hint: 'check the URL, the token or client certificate, and the CA',
        }),
      );
    const opts = { method: 'POST', headers, timeout: o.timeoutMs ?? 30_000 };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            {
              ...opts,
              minVersion: 'TLSv1.2',
              ...(o.tls?.cert ? { cert: o.tls.cert } : {}),
              ...(o.tls?.key ? { key: o.tls.key } : {}),
              ...(o.tls?.ca ? { ca: o.tls.ca } : {}),
            },
            done,
          )
        : httpRequest(url, opts, done);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end(body);
  });
}
