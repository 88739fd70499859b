/**
 * The independent cosigner's shell: `psbt sign --trust` and `cosigner serve`. It reads the
 * pinned genesis, its own append-only ledger file, the PSBT and its evidence; runs the pure
 * check (`core/cosign.ts`); appends to the ledger (fsync) before it releases a signature. No
 * store, no chain. `cosigner serve` listens over plain HTTP with a token, or over mutual TLS
 * (only clients with a certificate from one CA connect) with or without the token. Not the check
 * itself.
 */
import { timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { HDKey } from '@scure/bip32';
import { MamoriError } from '../shared/errors.js';
import { writeFileAtomic } from '../shared/files.js';
import { type CosignApproval, cosignCheck, type LedgerEntry, parseLedger } from './core/cosign.js';
import { embeddedEvidence } from './core/evidence-field.js';
import { decodePsbt, encodePsbt, signPsbt } from './core/psbt.js';
import { memoSchnorrVerify, parseDocument, refuse, type SchnorrVerify } from './core/trust.js';
import { fastPointAddScalar, fastSchnorrVerify } from './verifier.js';

/** Read a ledger file (missing: empty). */
export function readLedger(path: string | undefined): LedgerEntry[] {
  if (!path || !existsSync(path)) return [];
  return parseLedger(readFileSync(path, 'utf8'));
}

/**
 * Add one entry, before any signature leaves the cosigner, so that the file is never left
 * half-written: the whole ledger goes to `<path>.tmp`, is fsynced, and replaces the old file
 * by rename (atomic on POSIX), then the folder is fsynced. A crash leaves the old ledger or the
 * new one, never a torn line. A torn last line left by an older Mamori's append is dropped.
 * @example appendLedger('ledger.jsonl', check.ledgerEntry)
 */
export function appendLedger(path: string, e: LedgerEntry): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  parseLedger(old); // refuses a ledger damaged anywhere but in its last line
  const kept = old.endsWith('\n') || old === '' ? old : old.slice(0, old.lastIndexOf('\n') + 1);
  writeFileAtomic(path, `${kept}${JSON.stringify(e)}\n`, { mode: 0o600 });
}

export interface CosignRequest {
  psbt: string;
  /** The evidence; when absent, the evidence embedded in the PSBT (`core/evidence-field.ts`). */
  evidence?: unknown;
}

/**
 * Check and sign: the refusal (E_POLICY with `details.reason`) or the signed PSBT. A txid the
 * ledger already holds is signed again without counting twice.
 * @example cosign({ psbt, evidence }, { genesis, master, ledgerPath, now: Date.now() })
 */
export function cosign(
  req: CosignRequest,
  o: {
    genesis: unknown;
    genesisHash?: string;
    master: HDKey;
    ledgerPath?: string;
    now: number;
    /** Default: libsecp256k1 (`verifier.ts`). */
    schnorrVerify?: SchnorrVerify;
    /**
     * A check this process already made of the same PSBT and evidence (the CLI checks before it
     * asks for the passphrase): kept only if the ledger still reads exactly as it did then.
     */
    prechecked?: { check: CosignApproval; ledger: LedgerEntry[] };
  },
): { psbt: string; signed: number; check: CosignApproval } {
  const tx = decodePsbt(req.psbt);
  const ledger = readLedger(o.ledgerPath);
  const pre = o.prechecked;
  const reuse =
    pre !== undefined &&
    pre.check.txid === tx.id &&
    JSON.stringify(pre.ledger) === JSON.stringify(ledger);
  const check = reuse
    ? pre.check
    : cosignCheck({
        psbt: tx,
        evidence: req.evidence ?? embeddedOrRefuse(tx),
        genesis: o.genesis,
        ...(o.genesisHash ? { pinnedGenesisHash: o.genesisHash } : {}),
        ledger,
        now: o.now,
        schnorrVerify: o.schnorrVerify ?? fastSchnorrVerify,
        pointAddScalar: fastPointAddScalar,
      });
  const signed = signPsbt(tx, o.master);
  if (o.ledgerPath && !ledger.some((l) => l.txid === check.txid)) {
    appendLedger(o.ledgerPath, check.ledgerEntry);
  }
  return { psbt: encodePsbt(tx), signed, check };
}

/** Read a genesis file as a document (not yet checked: the check does that). */
export function readGenesisFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MamoriError('E_INPUT', `cannot read genesis ${path}`, { cause: e });
  }
  return parseDocument(text, `genesis ${path}`);
}

/** The PSBT's embedded evidence, or the refusal that there is none anywhere. */
function embeddedOrRefuse(tx: ReturnType<typeof decodePsbt>): unknown {
  const ev = embeddedEvidence(tx);
  if (ev === undefined) {
    throw refuse('evidence-malformed', 'no evidence: neither given beside the PSBT nor in it');
  }
  return ev;
}

export interface CosignerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `cosigner serve`'s mutual TLS: its certificate and key, and the CA whose certificates clients
 * must show. PEM, as read by `readCosignerTls`.
 */
export interface CosignerTls {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer;
}

const TLS_MIN_VERSION = 'TLSv1.2';

/** Read a PEM file; a private key that group or others may read is refused, as ssh does. */
export function readPem(path: string, what: string, secret: boolean): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new MamoriError('E_CONFIG', `cannot read the ${what} ${path}`, { cause: e });
  }
  try {
    // fstat on the open file: the mode checked is the mode of the bytes read
    const mode = fstatSync(fd).mode & 0o777;
    if (secret && process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new MamoriError(
        'E_CONFIG',
        `the ${what} ${path} may be read by others (mode ${mode.toString(8).padStart(4, '0')})`,
        { hint: `chmod 600 ${path}`, details: { path, mode } },
      );
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read and check the mutual-TLS files of `cosigner serve` before anything else starts: each
 * must be readable, the key readable by its owner only (else E_CONFIG, like ssh), and the
 * three must make a TLS context (the key matches the certificate; PEM parses).
 * @example const tls = readCosignerTls({ certFile: 'srv.pem', keyFile: 'srv.key', clientCaFile: 'ca.pem' })
 */
export function readCosignerTls(files: {
  certFile: string;
  keyFile: string;
  clientCaFile: string;
}): CosignerTls {
  const tls = {
    cert: readPem(files.certFile, 'TLS certificate', false),
    key: readPem(files.keyFile, 'TLS key', true),
    clientCa: readPem(files.clientCaFile, 'client CA', false),
  };
  try {
    createSecureContext({
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCa,
      minVersion: TLS_MIN_VERSION,
    });
  } catch (e) {
    tls.key.fill(0);
    throw new MamoriError(
      'E_CONFIG',
      `cannot use the TLS certificate, key and client CA: ${(e as Error).message}`,
      { cause: e, hint: 'PEM files; the key must be the certificate’s own' },
    );
  }
  return tls;
}

const MAX_BODY = 8 * 1024 * 1024;

/**
 * `cosigner serve`: POST /v1/cosign with a JSON body `{ psbt, evidence }` → 200
 * `{ psbt, signed, txid, withdrawals }`, or 4xx `{ error: { code, reason, message } }`. One
 * request at a time, so the ledger stays in order. Callers are authenticated by
 * `Authorization: Bearer <token>`, by mutual TLS (`tls`: HTTPS, TLS 1.2+, only clients whose
 * certificate the client CA signed complete the handshake), or by both when both are given.
 * @example const s = await serveCosigner({ genesis, master, token, port: 0 })
 * @example const s = await serveCosigner({ genesis, master, tls: readCosignerTls(files), port: 0 })
 */
export async function serveCosigner(o: {
  genesis: unknown;
  genesisHash?: string;
  master: HDKey;
  token?: string;
  tls?: CosignerTls;
  ledgerPath?: string;
  host?: string;
  port?: number;
  now?: () => number;
}): Promise<CosignerServer> {
  if (o.token === undefined && !o.tls) {
    throw new MamoriError('E_CONFIG', 'the cosigner needs a token, mutual TLS, or both');
  }
  if (o.token !== undefined && o.token.length < 16) {
    throw new MamoriError('E_CONFIG', 'the cosigner token is too short');
  }
  const want = o.token === undefined ? undefined : Buffer.from(`Bearer ${o.token}`);
  let queue: Promise<unknown> = Promise.resolve();
  // A long-lived cosigner sees the same policy and genesis signatures in every request.
  const verify = memoSchnorrVerify(fastSchnorrVerify);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    // rejectUnauthorized already ended any other handshake; this only guards against a change
    if (o.tls && !(req.socket as TLSSocket).authorized) {
      return send(401, { error: { code: 'E_AUTH', message: 'no trusted client certificate' } });
    }
    if (req.method === 'GET' && req.url === '/healthz') return send(200, { ok: true });
    if (req.method !== 'POST' || req.url !== '/v1/cosign') {
      return send(404, { error: { code: 'E_NOT_FOUND', message: 'POST /v1/cosign' } });
    }
    if (want) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        return send(401, { error: { code: 'E_AUTH', message: 'bad or missing token' } });
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        send(413, { error: { code: 'E_INPUT', message: 'body too large' } });
        req.destroy();
      } else chunks.push(d);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      queue = queue.then(() => {
        try {
          const body = parseDocument<CosignRequest>(Buffer.concat(chunks).toString('utf8'), 'body');
          if (typeof body?.psbt !== 'string') {
            throw new MamoriError('E_INPUT', 'body needs "psbt" (and "evidence" unless embedded)');
          }
          const r = cosign(body, {
            genesis: o.genesis,
            ...(o.genesisHash ? { genesisHash: o.genesisHash } : {}),
            master: o.master,
            ...(o.ledgerPath ? { ledgerPath: o.ledgerPath } : {}),
            now: (o.now ?? Date.now)(),
            schnorrVerify: verify,
          });
          send(200, {
            psbt: r.psbt,
            signed: r.signed,
            txid: r.check.txid,
            withdrawals: r.check.withdrawals,
          });
        } catch (e) {
          const err =
            e instanceof MamoriError ? e : new MamoriError('E_INPUT', (e as Error).message);
          send(err.code === 'E_POLICY' ? 403 : 400, {
            error: {
              code: err.code,
              reason: err.details?.reason ?? null,
              message: err.message,
            },
          });
        }
      });
    });
  };
  const server = o.tls
    ? createHttpsServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          ca: o.tls.clientCa,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: TLS_MIN_VERSION,
        },
        handle,
      )
    : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${o.tls ? 'https' : 'http'}://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
