/**
 * `mamori custody id|trust|cosigner …` verbs: identities, the genesis document and the
 * independent cosigner service. Owned by the custody area; they parse, call
 * `src/custody/index.ts` and print. `id new|show`, `trust init|sign` and `cosigner serve` never
 * open the store.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import { writeFileAtomic } from '../../shared/files.js';
import { formatTable } from '../../shared/text.js';
import type { OptionSpec, VerbSpec } from '../types.js';
// functions only from custody.ts (hoisted): the two modules import each other
import { arg, ctxOf, passphrase, readText, signerOf, str, sub } from './custody.js';
import { readPsbtArg } from './custody-psbt.js';

const AS_OPT: OptionSpec = {
  type: 'string',
  value: '<identity file>',
  description: 'act as this identity (signs the change)',
};

const lib = () => import('../../custody/index.js');

/** An identity given as a file (identity file or passkey JSON) or as its `mid1…` id. */
function identityDoc(
  c: Awaited<ReturnType<typeof lib>>,
  ref: string,
): import('../../custody/index.js').IdentityDoc {
  if (/^mid1[02-9ac-hj-np-z]+$/.test(ref)) {
    throw new MamoriError('E_INPUT', `give ${ref}'s identity file (its name and key), not the id`);
  }
  const doc = c.parseDocument<{ public?: unknown; kind?: string }>(readText(ref, 'identity'), ref);
  // a passkey identity from the console: { id, name, kind: 'webauthn', publicKey, rpId }
  return (
    doc.kind === 'webauthn' ? doc : doc.public
  ) as import('../../custody/index.js').IdentityDoc;
}

export const id: VerbSpec = {
  summary: 'id new|show|list: identities that sign every custody state change',
  usage:
    'mamori custody id new <name> --out <file> | id show <file> | id list [--trust <genesis.json>]',
  examples: [
    'MAMORI_KEY_PASSPHRASE=… mamori custody id new alice --out alice.id --json',
    'mamori custody id list --trust genesis.json',
  ],
  options: {
    out: { type: 'string', value: '<file>', description: 'new: the identity file' },
    trust: { type: 'string', value: '<genesis.json>', description: 'list: from this genesis' },
  },
  positionals: { min: 1, max: 2, name: 'new|show|list' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'id', ['new', 'show', 'list']);
    if (s === 'new') {
      const name = arg(p, 1, 'name');
      const out = str(p, 'out');
      if (!out) throw new MamoriError('E_USAGE', 'id new needs --out <file>');
      const f = await c.newIdentity(name, await passphrase(ctx, true));
      writeFileSync(out, `${JSON.stringify(f, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      ctx.print({ name, id: f.public.id }, () => `${name} ${f.public.id}`);
      return 0;
    }
    if (s === 'show') {
      const f = c.readIdentityFile(arg(p, 1, 'identity file'));
      ctx.print({ name: f.public.name, id: f.public.id }, () => `${f.public.name} ${f.public.id}`);
      return 0;
    }
    let genesis: unknown;
    const t = str(p, 'trust');
    if (t) genesis = c.readGenesisFile(t);
    else {
      const cx = await ctxOf(ctx);
      const row = await cx.store.db
        .selectFrom('custody_genesis')
        .select('document')
        .orderBy('created_at')
        .executeTakeFirst();
      if (!row) throw new MamoriError('E_NOT_FOUND', 'no genesis bound yet: pass --trust <file>');
      genesis = JSON.parse(row.document);
    }
    const root = c.checkGenesis(genesis, Date.now());
    const g = root.genesis;
    const rows = g.identities.map((d) => ({
      name: d.name,
      id: d.id,
      kind: d.kind,
      roles: [
        ...(g.admins.includes(d.id) ? ['admin'] : []),
        ...(g.approvers.includes(d.id) ? ['approver'] : []),
        ...(g.operators.includes(d.id) ? ['operator'] : []),
      ],
    }));
    ctx.print(rows, () =>
      formatTable(
        ['name', 'roles', 'kind', 'id'],
        rows.map((r) => [r.name, r.roles.join(','), r.kind, r.id]),
      ),
    );
    return 0;
  },
};

export const trust: VerbSpec = {
  summary: 'trust init|sign|show: the genesis document (admins, approvers, operators)',
  usage:
    'mamori custody trust init --admins <id file>… --admin-threshold k --approvers <id file>… [--operators <id file>…] --out genesis.json | trust sign <genesis.json> --as <id file> | trust show <genesis.json>',
  description:
    'Every listed admin signs the genesis; wallets bind to it with wallet create --trust, and\ncosigners pin it. A genesis signed by fewer than k admins is refused.',
  examples: [
    'mamori custody trust init --admins a1.id,a2.id,a3.id --admin-threshold 2 --approvers p1.id,p2.id,p3.id --operators ops.id --out genesis.json',
    'mamori custody trust sign genesis.json --as a1.id',
  ],
  options: {
    admins: { type: 'string', value: '<f,f,…>', description: 'admin identity files' },
    'admin-threshold': { type: 'string', value: '<k>', description: 'admin signatures needed' },
    approvers: { type: 'string', value: '<f,f,…>', description: 'approver identity files' },
    'approver-threshold': {
      type: 'string',
      value: '<k>',
      description: 'approver signatures to lift a freeze (default: admin threshold)',
    },
    operators: { type: 'string', value: '<f,f,…>', description: 'operator identity files' },
    out: { type: 'string', value: '<file>', description: 'init: the genesis file' },
    as: AS_OPT,
  },
  positionals: { min: 1, max: 2, name: 'init|sign|show' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'trust', ['init', 'sign', 'show']);
    if (s === 'init') {
      const list = (name: string) =>
        (str(p, name) ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map((f) => identityDoc(c, f));
      const admins = list('admins');
      const approvers = list('approvers');
      const operators = list('operators');
      const k = Number(str(p, 'admin-threshold'));
      const out = str(p, 'out');
      if (!out || !admins.length || !Number.isInteger(k)) {
        throw new MamoriError('E_USAGE', 'trust init needs --admins, --admin-threshold, --out');
      }
      const all = new Map([...admins, ...approvers, ...operators].map((d) => [d.id, d]));
      const at = str(p, 'approver-threshold');
      const g = c.makeGenesis({
        identities: [...all.values()],
        admins: admins.map((d) => d.id),
        adminThreshold: k,
        approvers: approvers.map((d) => d.id),
        operators: operators.map((d) => d.id),
        createdAt: new Date().toISOString(),
        ...(at ? { approverThreshold: Number(at) } : {}),
      });
      writeFileSync(out, `${JSON.stringify(g, null, 1)}\n`, { flag: 'wx' });
      ctx.print({ file: out, hash: c.checkGenesisHash(g) }, () => `genesis written to ${out}`);
      return 0;
    }
    const path = arg(p, 1, 'genesis file');
    const doc = c.readGenesisFile(path) as import('../../custody/index.js').Genesis;
    if (s === 'show') {
      let status = 'valid';
      try {
        c.checkGenesis(doc, Date.now());
      } catch (e) {
        status = (e as Error).message;
      }
      ctx.print({ hash: c.checkGenesisHash(doc), status, ...doc }, () =>
        [`genesis ${c.checkGenesisHash(doc)}: ${status}`].join('\n'),
      );
      return 0;
    }
    const me = await signerOf(ctx, p);
    if (!me) throw new MamoriError('E_USAGE', 'trust sign needs --as <identity file>');
    try {
      const signed = c.signGenesis(doc, me, new Date().toISOString());
      writeFileSync(path, `${JSON.stringify(signed, null, 1)}\n`);
      ctx.print(
        { file: path, signatures: signed.signatures.length, needed: signed.adminThreshold },
        () => `${signed.signatures.length} of ${signed.adminThreshold} admin signatures`,
      );
    } finally {
      me.wipe();
    }
    return 0;
  },
};

export const cosigner: VerbSpec = {
  summary:
    'cosigner serve|sign: the independent cosigner as a small service (token or mutual TLS), and its client',
  usage:
    'mamori custody cosigner serve --key <key file> --trust <genesis.json> --listen 127.0.0.1:8737 [--ledger <file>] [--tls-cert <pem> --tls-key <pem> --client-ca <pem>] | sign <psbt> --url <https://host:port> [--evidence <file>] [--out <file>] [--client-cert <pem> --client-key <pem>] [--ca <pem>]',
  description:
    'POST /v1/cosign {psbt, evidence}: the PSBT signed, or 403 with the refusal reason. The same\ncheck as psbt sign --trust. Callers show Authorization: Bearer $MAMORI_COSIGNER_TOKEN, or,\nwith --tls-cert/--tls-key/--client-ca, a client certificate signed by the client CA (HTTPS,\nTLS 1.2+; other clients fail the handshake). With both, both are required. The TLS key file\nmust be readable by its owner only (chmod 600).',
  examples: [
    'MAMORI_COSIGNER_TOKEN=… mamori custody cosigner serve --key cold.key --trust genesis.json --listen 127.0.0.1:8737',
    'mamori custody cosigner serve --key cold.key --trust genesis.json --listen 10.0.0.5:8737 --tls-cert srv.pem --tls-key srv.key --client-ca clients-ca.pem',
    'mamori custody cosigner sign batch.psbt --url https://10.0.0.5:8737 --client-cert hot.pem --client-key hot.key --ca srv.pem --out batch.2.psbt',
  ],
  options: {
    key: { type: 'string', value: '<key file>', description: 'the encrypted cosigner key' },
    trust: { type: 'string', value: '<genesis.json>', description: 'the pinned genesis' },
    listen: { type: 'string', value: '<host:port>', description: 'default 127.0.0.1:0' },
    ledger: { type: 'string', value: '<file>', description: 'the append-only ledger' },
    'tls-cert': {
      type: 'string',
      value: '<pem>',
      description: 'serve HTTPS with this certificate',
    },
    'tls-key': { type: 'string', value: '<pem>', description: 'its private key (mode 600)' },
    'client-ca': {
      type: 'string',
      value: '<pem>',
      description: 'only clients with a certificate from this CA connect',
    },
    url: { type: 'string', value: '<url>', description: 'sign: the cosigner service' },
    evidence: {
      type: 'string',
      value: '<file>',
      description: 'sign: the evidence (default <psbt>.evidence.json if present, else in the PSBT)',
    },
    out: { type: 'string', value: '<file>', description: 'sign: write the signed PSBT here' },
    'client-cert': { type: 'string', value: '<pem>', description: 'sign: our client certificate' },
    'client-key': { type: 'string', value: '<pem>', description: 'sign: its key (mode 600)' },
    ca: {
      type: 'string',
      value: '<pem>',
      description: "sign: trust this CA (or the cosigner's own certificate) for https",
    },
  },
  positionals: { min: 1, max: 2, name: 'serve|sign' },
  async run(ctx, p) {
    const c = await lib();
    if (sub(p, 'cosigner', ['serve', 'sign']) === 'sign') return cosignerSign(ctx, p, c);
    const keyPath = str(p, 'key');
    const trustPath = str(p, 'trust');
    const token = ctx.io.env.MAMORI_COSIGNER_TOKEN || undefined;
    if (!keyPath || !trustPath) {
      throw new MamoriError('E_USAGE', 'cosigner serve needs --key and --trust');
    }
    const tlsFlags = ['tls-cert', 'tls-key', 'client-ca'] as const;
    const given = tlsFlags.filter((f) => str(p, f) !== undefined);
    if (given.length > 0 && given.length < tlsFlags.length) {
      const missing = tlsFlags.filter((f) => !given.includes(f));
      throw new MamoriError(
        'E_USAGE',
        `mutual TLS needs --tls-cert, --tls-key and --client-ca together: ${missing.map((f) => `--${f}`).join(' and ')} missing`,
      );
    }
    if (!token && given.length === 0) {
      throw new MamoriError('E_CONFIG', 'set MAMORI_COSIGNER_TOKEN (16+ characters)', {
        hint: 'or serve mutual TLS with --tls-cert, --tls-key and --client-ca',
      });
    }
    // the TLS files are checked before the passphrase is asked for
    const tls = given.length
      ? c.readCosignerTls({
          certFile: str(p, 'tls-cert')!,
          keyFile: str(p, 'tls-key')!,
          clientCaFile: str(p, 'client-ca')!,
        })
      : undefined;
    try {
      const genesis = c.readGenesisFile(trustPath);
      c.checkGenesis(genesis, Date.now());
      const [host, port] = (str(p, 'listen') ?? '127.0.0.1:0').split(/:(?=\d+$)/);
      const master = await c.unlockKeyFile(c.readKeyFile(keyPath), await passphrase(ctx));
      try {
        const srv = await c.serveCosigner({
          genesis,
          master,
          ...(token ? { token } : {}),
          ...(tls ? { tls } : {}),
          host: host ?? '127.0.0.1',
          port: Number(port ?? 0),
          ...(str(p, 'ledger') ? { ledgerPath: str(p, 'ledger')! } : {}),
        });
        tls?.key.fill(0); // the server's TLS context holds its own copy
        const auth = [...(tls ? ['mutual TLS'] : []), ...(token ? ['token'] : [])];
        const verifier = c.secpBackend();
        ctx.print(
          { url: srv.url, auth, verifier },
          () => `cosigner listening on ${srv.url} (${auth.join(' and ')}; verifier: ${verifier})`,
        );
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await srv.close();
      } finally {
        master.wipePrivateData();
      }
    } finally {
      tls?.key.fill(0);
    }
    return 0;
  },
};

/**
 * `cosigner sign <psbt> --url …`: the hot server's side of `cosigner serve`. The signed PSBT is
 * written only when it is our transaction with a new valid signature.
 */
async function cosignerSign(
  ctx: Parameters<VerbSpec['run']>[0],
  p: Parameters<VerbSpec['run']>[1],
  c: Awaited<ReturnType<typeof lib>>,
) {
  const file = arg(p, 1, 'psbt');
  const url = str(p, 'url');
  if (!url) throw new MamoriError('E_USAGE', 'cosigner sign needs --url <cosigner URL>');
  const [cert, key] = [str(p, 'client-cert'), str(p, 'client-key')];
  if (Boolean(cert) !== Boolean(key)) {
    throw new MamoriError('E_USAGE', '--client-cert and --client-key go together');
  }
  // --evidence, else the file beside the PSBT if there is one, else what the PSBT carries
  const evPath = str(p, 'evidence') ?? `${file}.evidence.json`;
  const evidence =
    str(p, 'evidence') || existsSync(evPath)
      ? c.parseDocument(readText(evPath, 'evidence file'), `evidence ${evPath}`)
      : undefined;
  const tls = c.readCosignerClientTls({
    ...(cert ? { certFile: cert } : {}),
    ...(key ? { keyFile: key } : {}),
    ...(str(p, 'ca') ? { caFile: str(p, 'ca')! } : {}),
  });
  const token = ctx.io.env.MAMORI_COSIGNER_TOKEN || undefined;
  try {
    const r = await c.requestCosign({
      url,
      psbt: readPsbtArg(file),
      ...(evidence === undefined ? {} : { evidence }),
      ...(token ? { token } : {}),
      tls,
    });
    const out = str(p, 'out');
    if (out) {
      // whole or not at all: a half-written PSBT is never left where the signed one should be
      writeFileAtomic(out, `${r.psbt}\n`, { mode: 0o600 });
    }
    ctx.print({ ...r, file: out ?? null }, () =>
      out
        ? `the cosigner signed ${r.signed} input(s) of ${r.txid} (withdrawals ${r.withdrawals.join(', ') || '(none)'}) → ${out}`
        : r.psbt,
    );
    return 0;
  } finally {
    tls.key?.fill(0);
  }
}
