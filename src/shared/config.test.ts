import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-cfg-'));
  it('layers default < file < env < flag and remembers the source', () => {
    const file = join(dir, 'a.toml');
    writeFileSync(file, 'db = "/from/file.db"\n[serve]\nport = 9000\nhost = "127.0.0.2"\n');
    const env = { HOME: dir, MAMORI_SERVE__PORT: '9100' };
    const cfg = loadConfig({ env, file, flags: { 'serve.host': '127.0.0.3' } });
    expect(cfg.values.get('db')).toEqual({ value: '/from/file.db', source: 'file' });
    expect(cfg.values.get('serve.port')).toEqual({ value: '9100', source: 'env' });
    expect(cfg.values.get('serve.host')).toEqual({ value: '127.0.0.3', source: 'flag' });
  });
  it('defaults the store to $XDG_DATA_HOME/mamori/mamori.db', () => {
    const cfg = loadConfig({
      env: { HOME: dir, XDG_DATA_HOME: '/x/data', XDG_CONFIG_HOME: join(dir, 'none') },
    });
    expect(cfg.values.get('db')).toEqual({ value: '/x/data/mamori/mamori.db', source: 'default' });
  });
  it('refuses secrets in the file and never lists secret env vars', () => {
    const file = join(dir, 'b.toml');
    writeFileSync(file, '[vuln]\nnvd_api_key = "abc"\n');
    expect(() => loadConfig({ env: { HOME: dir }, file })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    const cfg = loadConfig({
      env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'none'), MAMORI_KEY_PASSPHRASE: 'hunter2' },
    });
    expect([...cfg.values.values()].some((v) => v.value === 'hunter2')).toBe(false);
  });
  it('reports malformed TOML and a missing explicit file as E_CONFIG', () => {
    const file = join(dir, 'c.toml');
    writeFileSync(file, 'db = \n');
    expect(() => loadConfig({ env: { HOME: dir }, file })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    expect(() => loadConfig({ env: { HOME: dir }, file: join(dir, 'missing.toml') })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
  });
});
