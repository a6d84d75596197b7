import nacl from 'tweetnacl';
import { CivicLoopError, type OpenOwnTracks } from '@civicloop/model';

/** libsodium's crypto_secretbox sizes: what the OwnTracks apps seal with. */
const KEY_BYTES = nacl.secretbox.keyLength;
const NONCE_BYTES = nacl.secretbox.nonceLength;
const MAC_BYTES = nacl.secretbox.overheadLength;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The key the apps derive from the encryption key typed into them: its UTF-8 bytes, padded with
 * zero bytes to 32 (the booklet's "up to 32 octets, padded with binary zeroes"; Android copies
 * the bytes into a zeroed 32-byte array). A longer key is refused rather than cut short as the
 * apps would: nobody should find out by losing positions that only 32 bytes counted.
 */
export function ownTracksKeyBytes(secret: string): Uint8Array {
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length === 0 || bytes.length > KEY_BYTES)
    throw new CivicLoopError(
      'CL_ERR_VALIDATION',
      `ownTracksKey must be 1 to ${KEY_BYTES} bytes of UTF-8, as the OwnTracks apps take it; this one is ${bytes.length}.`,
      {
        issues: [{ path: '/ownTracksKey', message: `must be 1 to ${KEY_BYTES} bytes of UTF-8` }],
      },
    );
  const key = new Uint8Array(KEY_BYTES);
  key.set(bytes);
  return key;
}

/**
 * Opens an `encrypted` message's data: base64 of the 24-byte nonce followed by the secretbox
 * (16-byte Poly1305 tag, then the XSalsa20 ciphertext). Anything that does not authenticate
 * under the key, whatever its shape, opens to undefined.
 */
export function ownTracksOpener(key: Uint8Array): OpenOwnTracks {
  return (data) => {
    // Node's base64 decoder skips what is not base64; a sealed message is nothing else.
    if (!BASE64.test(data)) return undefined;
    const sealed = Buffer.from(data, 'base64');
    if (sealed.length < NONCE_BYTES + MAC_BYTES) return undefined;
    const clear = nacl.secretbox.open(sealed.subarray(NONCE_BYTES), sealed.subarray(0, NONCE_BYTES), key);
    return clear ? Buffer.from(clear.buffer, clear.byteOffset, clear.byteLength).toString('utf8') : undefined;
  };
}

/**
 * Seals a message for the app as the apps seal theirs (a fresh random nonce, then the secretbox),
 * as base64 for an `encrypted` message's data.
 */
export function sealForOwnTracks(key: Uint8Array, clear: string): string {
  const nonce = nacl.randomBytes(NONCE_BYTES);
  return Buffer.concat([nonce, nacl.secretbox(Buffer.from(clear, 'utf8'), nonce, key)]).toString('base64');
}
