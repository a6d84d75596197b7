import { execFileSync } from 'node:child_process';

/**
 * Seals messages as the OwnTracks apps do, with libsodium itself (Debian's python3-nacl binds
 * it): the key's UTF-8 bytes padded with zero bytes to 32, a random 24-byte nonce, then
 * crypto_secretbox (tag and ciphertext), base64 of the nonce and box together. The gateway's
 * own code is on the other side only, so a mistake shared by both sides cannot pass.
 */
const SEAL = `
import sys, json, base64, nacl.secret
request = json.load(sys.stdin)
box = nacl.secret.SecretBox(request["key"].encode("utf-8").ljust(32, b"\\0"))
print(json.dumps([base64.b64encode(bytes(box.encrypt(m.encode("utf-8")))).decode() for m in request["messages"]]))
`;

/** Debian's interpreter, whose dist-packages hold python3-nacl (a python3 earlier on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function sealWithLibsodium(key: string, messages: string[]): string[] {
  return JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', SEAL], { input: JSON.stringify({ key, messages }) }).toString()) as string[];
}

/** The `encrypted` message an OwnTracks app publishes in place of `message`. */
export function ownTracksEncrypted(key: string, message: unknown): string {
  return JSON.stringify({ _type: 'encrypted', data: sealWithLibsodium(key, [JSON.stringify(message)])[0] });
}

const OPEN = `
import sys, json, base64, nacl.secret
request = json.load(sys.stdin)
box = nacl.secret.SecretBox(request["key"].encode("utf-8").ljust(32, b"\\0"))
print(json.dumps(box.decrypt(base64.b64decode(request["data"])).decode("utf-8")))
`;

/** Opens what the gateway sealed for an app, with libsodium, as the app would. */
export function openWithLibsodium(key: string, data: string): string {
  return JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', OPEN], { input: JSON.stringify({ key, data }) }).toString()) as string;
}
