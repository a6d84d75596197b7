type RandomSource = { randomUUID?: () => string; getRandomValues?: (bytes: Uint8Array) => Uint8Array };

/**
 * A random UUID (v4) for idempotency keys and offline queues. `crypto.randomUUID` only exists in
 * secure contexts (HTTPS or localhost) and in browsers from 2021-2022 on (Chrome 92, Safari 15.4):
 * a residents' portal served over plain HTTP on an intranet address, or an older WebView, has
 * none. `crypto.getRandomValues` is everywhere a browser is, so the same UUID is made from it
 * there; without either (a small runtime such as WeChat's), from Math.random: keys need only
 * differ from each other, not be secret.
 */
export function randomId(): string {
  const crypto = (globalThis as { crypto?: RandomSource }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
