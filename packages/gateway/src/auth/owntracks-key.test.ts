import { describe, expect, it } from 'vitest';
import { sealWithLibsodium } from '@civicloop/test-support/libsodium-seal.js';
import { ownTracksKeyBytes, ownTracksOpener } from './owntracks-key.js';

const open = (key: string, data: string) => ownTracksOpener(ownTracksKeyBytes(key))(data);

describe('OwnTracks payload encryption, against libsodium', () => {
  it('opens what libsodium sealed under a key padded as the apps pad it: ASCII, Chinese, exactly 32 bytes', () => {
    const message = JSON.stringify({ _type: 'location', lat: 23.1291, lon: 113.2644, tst: 1796547600, tid: '李' });
    for (const key of ['123', '环卫三班密钥', 'k'.repeat(32)]) {
      const [first, second] = sealWithLibsodium(key, [message, message]);
      expect(open(key, first!), key).toBe(message);
      // A fresh nonce each time, as the apps use: the same message seals differently.
      expect(second).not.toBe(first);
      expect(open(key, second!), key).toBe(message);
    }
  });

  it('opens nothing that does not authenticate under the key', () => {
    const [sealed] = sealWithLibsodium('right key', ['{"_type":"location"}']);
    expect(open('wrong key', sealed!)).toBeUndefined();
    // A key that only starts the same is another key.
    expect(open('right key2', sealed!)).toBeUndefined();
    const bytes = Buffer.from(sealed!, 'base64');
    for (const at of [0, 23, 24, 39, 40, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[at]! ^= 1;
      expect(open('right key', tampered.toString('base64')), `byte ${at} flipped`).toBeUndefined();
    }
    expect(open('right key', bytes.subarray(0, 39).toString('base64'))).toBeUndefined();
    expect(open('right key', '')).toBeUndefined();
    // Node would skip the stray characters and decode the rest; a sealed message has none.
    expect(open('right key', `${sealed!.slice(0, 10)}!${sealed!.slice(10)}`)).toBeUndefined();
  });

  it('takes a key of 1 to 32 bytes of UTF-8 and refuses any other with a catalogue error', () => {
    expect(ownTracksKeyBytes('a')).toEqual(new Uint8Array([97, ...new Array(31).fill(0)]));
    // Eleven Chinese characters are 33 bytes: more than the apps can use.
    for (const key of ['', 'k'.repeat(33), '环'.repeat(11)]) {
      expect(() => ownTracksKeyBytes(key), key).toThrow(expect.objectContaining({ code: 'CL_ERR_VALIDATION' }));
    }
  });
});
