import { describe, expect, it } from 'vitest';
import { createLogger, redact } from './log.js';

describe('redact', () => {
  it('removes extended private keys, WIF keys and long hex', () => {
    const xprv =
      'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi';
    expect(redact(`key ${xprv} end`)).toBe('key [redacted] end');
    expect(redact('wif KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn.')).toBe(
      'wif [redacted].',
    );
    expect(redact(`seed ${'ab'.repeat(32)}`)).toBe('seed [redacted]');
    expect(redact('txid-like short abcdef and words')).toBe('txid-like short abcdef and words');
  });
  it('applies to every log line', () => {
    let out = '';
    const log = createLogger({ write: (l) => (out += l) });
    log.error('leaked', { k: 'cd'.repeat(40) });
    expect(out).not.toContain('cdcd');
    expect(out).toContain('[redacted]');
  });
});
