/** `mamori token create|list|revoke`: bearer tokens for scripts (the store keeps only a hash). */
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec } from '../types.js';

const access = () => import('../../access/index.js');

export const area: AreaSpec = {
  name: 'token',
  summary: 'bearer tokens for scripts: create, list, revoke',
  verbs: {
    create: {
      summary: 'make a bearer token; it is printed once and only its hash is stored',
      usage: 'mamori token create --role viewer [--expires 30d] [--label <text>] [--json]',
      examples: [
        'mamori token create --role viewer --expires 30d --json   # {"token":"mamori_…","role":"viewer","expires":"…"}',
        "curl -H 'Authorization: Bearer mamori_…' http://127.0.0.1:8080/api/v1/status",
      ],
      options: {
        role: {
          type: 'string',
          value: '<role>',
          description: 'viewer, operator, approver or admin',
        },
        expires: {
          type: 'string',
          value: '<n>m|h|d|w',
          description: 'lifetime, at most 400 days (default 30d)',
        },
        label: { type: 'string', value: '<text>', description: 'what the token is for' },
      },
      async run(ctx, { values }) {
        const a = await access();
        const role = values.role ? a.parseRole(values.role as string) : undefined;
        if (!role) throw new MamoriError('E_USAGE', `--role: one of ${a.ROLES.join(', ')}`);
        const expiresText = (values.expires as string | undefined) ?? '30d';
        const ttlMs = a.parseDuration(expiresText);
        if (!ttlMs)
          throw new MamoriError('E_USAGE', `--expires: not a lifetime: '${expiresText}'`, {
            hint: 'e.g. 90m, 12h, 30d, 2w (at most 400 days)',
          });
        const store = await ctx.store();
        const label = values.label as string | undefined;
        const t = await a.createToken(store, { role, ttlMs, ...(label ? { label } : {}) });
        await a.audit(store, {
          actor: `cli:${ctx.io.env.USER ?? 'unknown'}`,
          action: 'token create',
          target: `${t.id} (${role})`,
          outcome: 'ok',
        });
        ctx.print(
          { token: t.token, role: t.role, expires: t.expires, id: t.id },
          () =>
            `${t.token}\n(token ${t.id}, ${t.role}, expires ${t.expires}; shown once, only its hash is stored)`,
        );
        return 0;
      },
    },
    list: {
      summary: 'list tokens (never the tokens themselves)',
      usage: 'mamori token list [--json]',
      async run(ctx) {
        const tokens = await (await access()).listTokens(await ctx.store());
        const now = new Date().toISOString();
        ctx.print(tokens, () =>
          tokens.length
            ? tokens
                .map(
                  (t) =>
                    `${String(t.id).padStart(4)}  ${t.role.padEnd(9)} ${t.revokedAt ? 'revoked' : t.expiresAt <= now ? 'expired' : `until ${t.expiresAt}`}  ${t.label}`,
                )
                .join('\n')
            : 'no tokens',
        );
        return 0;
      },
    },
    revoke: {
      summary: 'revoke a token by its id',
      usage: 'mamori token revoke <id>',
      positionals: { min: 1, max: 1, name: 'id' },
      async run(ctx, { positionals }) {
        const id = Number(positionals[0]);
        if (!Number.isSafeInteger(id) || id < 1)
          throw new MamoriError('E_USAGE', `not a token id: '${positionals[0]}'`);
        const a = await access();
        const store = await ctx.store();
        await a.revokeToken(store, id);
        await a.audit(store, {
          actor: `cli:${ctx.io.env.USER ?? 'unknown'}`,
          action: 'token revoke',
          target: String(id),
          outcome: 'ok',
        });
        ctx.print({ id, revoked: true }, () => `revoked token ${id}`);
        return 0;
      },
    },
  },
};
