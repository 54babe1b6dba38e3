import { describe, it, expect } from '@jest/globals';
import { decodeKeyFile, encodeKeyFile, generateKeyPair } from './keys.js';
import { pureCrypto } from './crypto/pure.js';

describe('key files', () => {
  it('round-trip, and the browser provider reads what Node wrote', () => {
    const kp = generateKeyPair();
    const text = encodeKeyFile(kp, 'door-1', 1700000000000);
    const back = decodeKeyFile(text, pureCrypto);
    expect(back.keyPair.publicKey).toBe(kp.publicKey);
    expect(back.file.label).toBe('door-1');
  });

  it('explain what is wrong with a damaged file', () => {
    const kp = generateKeyPair();
    const file = JSON.parse(encodeKeyFile(kp, 'x', 1));
    expect(() => decodeKeyFile('{oops')).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', details: expect.objectContaining({ problem: 'not-json' }) }));
    expect(() => decodeKeyFile(JSON.stringify({ ...file, seed: 'zz' }))).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', details: expect.objectContaining({ problem: 'field', field: 'seed' }) }));
    const other = generateKeyPair();
    expect(() => decodeKeyFile(JSON.stringify({ ...file, publicKey: other.publicKey }))).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', details: expect.objectContaining({ problem: 'key-mismatch' }) }));
  });
});
