/** `mamori user add|list|disable|enable|passwd`: console users (passwords hashed with argon2id). */
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec, CommandContext } from '../types.js';

const access = () => import('../../access/index.js');

async function password(ctx: CommandContext, name: string): Promise<string> {
  const env = ctx.io.env.MAMORI_PASSWORD;
  if (env) return env;
  if (!ctx.io.prompt)
    throw new MamoriError('E_INPUT', 'no password: set MAMORI_PASSWORD or run on a terminal');
  const a = await ctx.io.prompt(`Password for ${name}: `, { secret: true });
  const b = await ctx.io.prompt('Repeat password: ', { secret: true });
  if (a !== b) throw new MamoriError('E_INPUT', 'the passwords differ');
  return a;
}

/** Record an admin action taken from the CLI in the access audit trail. */
export async function auditCli(ctx: CommandContext, action: string, target: string) {
  const a = await access();
  await a.audit(await ctx.store(), {
    actor: `cli:${ctx.io.env.USER ?? 'unknown'}`,
    action,
    target,
    outcome: 'ok',
  });
}

export const area: AreaSpec = {
  name: 'user',
  summary: 'console users: add, list, disable, enable, passwd',
  verbs: {
    add: {
      summary: 'add a console user (password from a prompt or MAMORI_PASSWORD)',
      usage: 'mamori user add <name> --role viewer|operator|approver|admin',
      examples: ['MAMORI_PASSWORD=… mamori user add aiko --role approver'],
      positionals: { min: 1, max: 1, name: 'name' },
      options: {
        role: {
          type: 'string',
          value: '<role>',
          description: 'viewer, operator, approver or admin',
        },
      },
      async run(ctx, { values, positionals }) {
        const a = await access();
        const roleText = values.role as string | undefined;
        const role = roleText ? a.parseRole(roleText) : undefined;
        if (!role)
          throw new MamoriError('E_USAGE', `--role: one of ${a.ROLES.join(', ')}`, {
            hint: 'mamori user add aiko --role viewer',
          });
        const name = positionals[0]!;
        if (!a.isUserName(name)) throw new MamoriError('E_USAGE', `not a user name: '${name}'`);
        const u = await a.addUser(await ctx.store(), {
          name,
          role,
          password: await password(ctx, name),
        });
        await auditCli(ctx, 'user add', `${name} (${role})`);
        ctx.print(
          { name: u.name, role: u.role, createdAt: u.createdAt },
          () => `added ${u.name} (${u.role})`,
        );
        return 0;
      },
    },
    list: {
      summary: 'list console users',
      usage: 'mamori user list [--json]',
      async run(ctx) {
        const users = await (await access()).listUsers(await ctx.store());
        ctx.print(users, () =>
          users.length
            ? users
                .map(
                  (u) =>
                    `${u.name.padEnd(20)} ${u.role.padEnd(9)} ${u.disabledAt ? `disabled ${u.disabledAt}` : 'active'}${u.mustChange ? ' (one-time password)' : ''}`,
                )
                .join('\n')
            : 'no users (mamori user add <name> --role admin)',
        );
        return 0;
      },
    },
    disable: {
      summary: 'disable a user (ends their sessions)',
      usage: 'mamori user disable <name>',
      positionals: { min: 1, max: 1, name: 'name' },
      async run(ctx, { positionals }) {
        await (await access()).setUserDisabled(await ctx.store(), positionals[0]!, true);
        await auditCli(ctx, 'user disable', positionals[0]!);
        ctx.print({ name: positionals[0], disabled: true }, () => `disabled ${positionals[0]}`);
        return 0;
      },
    },
    enable: {
      summary: 'enable a disabled user',
      usage: 'mamori user enable <name>',
      positionals: { min: 1, max: 1, name: 'name' },
      async run(ctx, { positionals }) {
        await (await access()).setUserDisabled(await ctx.store(), positionals[0]!, false);
        await auditCli(ctx, 'user enable', positionals[0]!);
        ctx.print({ name: positionals[0], disabled: false }, () => `enabled ${positionals[0]}`);
        return 0;
      },
    },
    passwd: {
      summary: "set a user's password (ends their sessions)",
      usage: 'mamori user passwd <name>',
      positionals: { min: 1, max: 1, name: 'name' },
      async run(ctx, { positionals }) {
        const name = positionals[0]!;
        await (await access()).setPassword(await ctx.store(), name, await password(ctx, name));
        await auditCli(ctx, 'user passwd', name);
        ctx.print({ name, changed: true }, () => `password changed for ${name}`);
        return 0;
      },
    },
  },
};
