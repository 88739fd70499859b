/**
 * The encrypted key file: round trip, wrong passphrase and edited public part are E_AUTH,
 * malformed files are E_INPUT, and the file holds no secret in clear.
 */
import { describe, expect, it } from 'vitest';
import { newKey, parseKeyFile, unlockKeyFile } from '../../src/custody/keyfile.js';

const FAST = { N: 2 ** 12, r: 8, p: 1 };

describe('key file', () => {
  it('round trip; wrong passphrase or edited file → E_AUTH; no secret in clear', async () => {
    const entropy = new Uint8Array(32).fill(7);
    const k = await newKey('regtest', 'a long passphrase', { entropy, scrypt: FAST });
    expect(k.mnemonic.split(' ')).toHaveLength(24);
    const text = JSON.stringify(k.file);
    const m = await unlockKeyFile(parseKeyFile(text), 'a long passphrase');
    expect(m.privateExtendedKey.startsWith('tprv')).toBe(true);
    for (const secret of [
      m.privateExtendedKey,
      Buffer.from(m.privateKey!).toString('hex'),
      '07'.repeat(32),
      k.mnemonic.split(' ').slice(0, 4).join(' '),
    ]) {
      expect(text.includes(secret)).toBe(false);
    }
    m.wipePrivateData();
    await expect(unlockKeyFile(k.file, 'not the passphrase')).rejects.toMatchObject({
      code: 'E_AUTH',
    });
    const other = await newKey('regtest', 'a long passphrase', { scrypt: FAST });
    const swapped = { ...k.file, public: other.file.public };
    await expect(unlockKeyFile(swapped, 'a long passphrase')).rejects.toMatchObject({
      code: 'E_AUTH',
    });
    const flipped = { ...k.file, ciphertext: `${k.file.ciphertext.slice(0, -2)}00` };
    await expect(unlockKeyFile(flipped, 'a long passphrase')).rejects.toMatchObject({
      code: 'E_AUTH',
    });
  });
  it('malformed files and short passphrases are E_INPUT', async () => {
    expect(() => parseKeyFile('not json')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => parseKeyFile('{"format":"other"}')).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
    await expect(newKey('regtest', 'short', { scrypt: FAST })).rejects.toMatchObject({
      code: 'E_INPUT',
    });
    await expect(newKey('bogusnet', 'a long passphrase', { scrypt: FAST })).rejects.toMatchObject({
      code: 'E_INPUT',
    });
  });
});
