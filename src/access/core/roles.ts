/**
 * Roles and what each may do in the console (DESIGN.md "Trust"): a viewer reads, an operator
 * runs checks, scans and the bulletin, an approver approves and votes to unfreeze, an admin
 * manages users. Pure: no IO. Not authority over funds: custody approvals are signatures that
 * the cosigner checks itself; a role only decides what the console lets a session ask for.
 */

export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a request needs. `read` is every role; the others are named duties. */
export type Permission = 'read' | 'operate' | 'approve' | 'admin';

/**
 * Who holds each duty. An admin is not an approver: the person who manages accounts should not
 * also be one of the people who approve outflows (separation of duties, as in Fireblocks' TAP).
 */
const HOLDERS: Record<Permission, readonly Role[]> = {
  read: ROLES,
  operate: ['operator', 'admin'],
  approve: ['approver'],
  admin: ['admin'],
};

/** @example can('viewer', 'operate') === false */
export function can(role: Role, permission: Permission): boolean {
  return HOLDERS[permission].includes(role);
}

/** The roles that hold a duty, for a refusal's message. */
export function holdersOf(permission: Permission): readonly Role[] {
  return HOLDERS[permission];
}

/** @example parseRole('operator') === 'operator'; parseRole('root') === undefined */
export function parseRole(text: string): Role | undefined {
  return (ROLES as readonly string[]).includes(text) ? (text as Role) : undefined;
}

interface RouteRule {
  method: string;
  /** A path pattern: `*` matches one segment, a trailing `**` the rest. */
  path: string;
  needs: Permission;
}

/**
 * The state-changing routes and the duty each needs. A state-changing request that no rule
 * names needs `admin` (fail closed): a new POST route is refused to operators until listed here.
 */
export const ROUTE_RULES: readonly RouteRule[] = [
  { method: 'POST', path: '/api/v1/vuln/check', needs: 'operate' },
  { method: 'POST', path: '/vuln/upload', needs: 'operate' },
  { method: 'POST', path: '/api/v1/bulletin/**', needs: 'operate' },
  { method: 'POST', path: '/bulletin/**', needs: 'operate' },
  { method: 'POST', path: '/api/v1/exposure/**', needs: 'operate' },
  { method: 'POST', path: '/api/v1/trace/screenings', needs: 'operate' },
  { method: 'POST', path: '/trace/screen', needs: 'operate' },
  { method: 'POST', path: '/api/v1/custody/withdrawals/*/approve', needs: 'approve' },
  { method: 'POST', path: '/custody/withdrawals/*/approve', needs: 'approve' },
  { method: 'POST', path: '/api/v1/custody/unfreeze-votes', needs: 'approve' },
  // A passkey is an identity with no authority until a signed genesis lists it: any user may
  // register one of their own.
  { method: 'POST', path: '/api/v1/passkeys/options', needs: 'read' },
  { method: 'POST', path: '/api/v1/passkeys/register', needs: 'read' },
  { method: 'POST', path: '/api/v1/alerts/*/ack', needs: 'operate' },
  { method: 'POST', path: '/api/v1/alerts/*/assign', needs: 'operate' },
  { method: 'POST', path: '/alerts/*/ack', needs: 'operate' },
  { method: 'POST', path: '/alerts/*/assign', needs: 'operate' },
  { method: 'POST', path: '/api/v1/access/**', needs: 'admin' },
  // Every signed-in person may change their own password and language, and sign out.
  { method: 'POST', path: '/account/password', needs: 'read' },
  { method: 'POST', path: '/prefs/lang', needs: 'read' },
  { method: 'POST', path: '/logout', needs: 'read' },
];

function matches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '**') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
    if (p[i] === '*' && s[i] === '') return false;
  }
  return p.length === s.length;
}

/**
 * The duty a request needs: `read` for GET and HEAD, the listed duty for known state changes,
 * `admin` for any other.
 * @example permissionFor('POST', '/api/v1/vuln/check') === 'operate'
 */
export function permissionFor(method: string, path: string): Permission {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'read';
  const rule = ROUTE_RULES.find((r) => r.method === m && matches(r.path, path));
  return rule ? rule.needs : 'admin';
}
