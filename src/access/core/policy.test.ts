import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCKOUT,
  formatPhc,
  hostAllowed,
  isTokenShaped,
  lockedUntil,
  originAllowed,
  parseDuration,
  parsePhc,
  passwordProblem,
} from './policy.js';
import { can, parseRole, permissionFor, ROLES } from './roles.js';

describe('roles', () => {
  it('a viewer reads only; operators operate; only approvers approve; only admins administer', () => {
    expect(ROLES.every((r) => can(r, 'read'))).toBe(true);
    expect(can('viewer', 'operate')).toBe(false);
    expect(can('operator', 'operate')).toBe(true);
    expect(can('approver', 'approve')).toBe(true);
    expect(can('admin', 'approve')).toBe(false);
    expect(can('operator', 'admin')).toBe(false);
    expect(parseRole('root')).toBeUndefined();
  });
  it('GET is read, listed routes get their duty, unlisted state changes need admin', () => {
    expect(permissionFor('GET', '/api/v1/custody/wallets')).toBe('read');
    expect(permissionFor('POST', '/api/v1/vuln/check')).toBe('operate');
    expect(permissionFor('POST', '/api/v1/custody/withdrawals/7/approve')).toBe('approve');
    expect(permissionFor('POST', '/api/v1/custody/withdrawals//approve')).toBe('admin');
    expect(permissionFor('POST', '/api/v1/something/new')).toBe('admin');
    expect(permissionFor('DELETE', '/api/v1/vuln/check')).toBe('admin');
  });
});

describe('lockout', () => {
  it('locks after five failures in the window, for the lock time after the last', () => {
    const base = 1_000_000_000;
    const four = [0, 1, 2, 3].map((i) => base + i * 1000);
    expect(lockedUntil(four, base + 5000)).toBeUndefined();
    const five = [...four, base + 4000];
    expect(lockedUntil(five, base + 5000)).toBe(base + 4000 + DEFAULT_LOCKOUT.lockMs);
    expect(lockedUntil(five, base + 4000 + DEFAULT_LOCKOUT.lockMs + 1)).toBeUndefined();
    // spread wider than the window: no lock
    const spread = [0, 1, 2, 3, 4].map((i) => base + i * DEFAULT_LOCKOUT.windowMs);
    expect(lockedUntil(spread, base + 4 * DEFAULT_LOCKOUT.windowMs + 1)).toBeUndefined();
  });
  it('numbers sort as numbers (10 failures out of order still lock)', () => {
    const t = [9, 100, 5, 77, 1000].map((x) => 1_700_000_000_000 + x);
    expect(lockedUntil(t, 1_700_000_001_000)).toBeDefined();
  });
});

describe('formats', () => {
  it('durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    for (const bad of ['', '0d', '30', '1y', '401d', '-1d', '3.5h'])
      expect(parseDuration(bad)).toBeUndefined();
  });
  it('token shape', () => {
    expect(isTokenShaped(`mamori_${'A'.repeat(43)}`)).toBe(true);
    expect(isTokenShaped(`mamori_${'A'.repeat(42)}`)).toBe(false);
    expect(isTokenShaped(`mamori_${'A'.repeat(42)}=`)).toBe(false);
  });
  it('PHC strings round-trip', () => {
    fc.assert(
      fc.property(fc.base64String({ minLength: 4, maxLength: 40 }), (b64) => {
        const s = b64.replace(/=+$/, '');
        if (!s) return;
        const phc = formatPhc({ m: 19456, t: 2, p: 1 }, s, s);
        expect(parsePhc(phc)).toEqual({ params: { m: 19456, t: 2, p: 1 }, salt: s, hash: s });
      }),
    );
    expect(parsePhc('$argon2i$v=19$m=1,t=1,p=1$a$b')).toBeUndefined();
  });
  it('passwords: length, not the name', () => {
    expect(passwordProblem('short', 'x')).toMatch(/12/);
    expect(passwordProblem('aikoaikoaiko', 'AIKOAIKOAIKO')).toMatch(/user name/);
    expect(passwordProblem('correct horse battery', 'aiko')).toBeUndefined();
  });
  it('hosts and origins match exactly', () => {
    expect(hostAllowed('127.0.0.1:8080', ['127.0.0.1:8080'])).toBe(true);
    expect(hostAllowed('attacker.example:8080', ['127.0.0.1:8080'])).toBe(false);
    expect(hostAllowed(undefined, ['127.0.0.1:8080'])).toBe(false);
    expect(originAllowed('http://127.0.0.1:8080', ['http://127.0.0.1:8080'])).toBe(true);
    expect(originAllowed('null', ['http://127.0.0.1:8080'])).toBe(false);
    expect(originAllowed('http://127.0.0.1:8081', ['http://127.0.0.1:8080'])).toBe(false);
  });
});
