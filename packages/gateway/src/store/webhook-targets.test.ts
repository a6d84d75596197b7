import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../webhooks/post-webhook.js';
import { isPrivateAddress, type Lookup } from './webhook-targets.js';

let server: Server;
let port: number;
let received = 0;
beforeAll(async () => {
  server = createServer((request, response) => {
    received++;
    request.resume();
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A resolver that answers each call with the next address of its list, as a rebinding DNS server does. */
function rebinding(...answers: string[]): Lookup & { calls: number } {
  const lookup = ((_host, _options, callback) => {
    const address = answers[Math.min(lookup.calls++, answers.length - 1)]!;
    setImmediate(() => callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]));
  }) as Lookup & { calls: number };
  lookup.calls = 0;
  return lookup;
}

const post = (url: string, resolve?: Lookup, allowPrivate = false) =>
  postWebhook({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 500, allowPrivate, ...(resolve ? { resolve } : {}) });

describe('webhook targets', () => {
  it('checks the address the connection is made to: no DNS rebinding window', async () => {
    // A name that resolves to loopback is refused at connect time.
    const toLoopback = rebinding('127.0.0.1');
    await expect(post(`http://hooks.attacker.example:${port}/x`, toLoopback)).rejects.toThrow(/private address/);
    // A name that answers a public address first and loopback next: there is one resolution,
    // the one the socket uses, so the second answer is never asked for.
    const flipping = rebinding('93.184.216.34', '127.0.0.1');
    await post(`http://hooks.attacker.example:${port}/x`, flipping).catch(() => undefined);
    expect(flipping.calls).toBe(1);
    expect(received).toBe(0);
    // Address literals are checked too, and a closed network may allow them on purpose.
    await expect(post(`http://127.0.0.1:${port}/x`)).rejects.toThrow(/private/);
    expect(await post(`http://127.0.0.1:${port}/x`, undefined, true)).toBe(200);
    expect(received).toBe(1);
  });

  it('knows the private ranges, including IPv6 forms that carry an IPv4 address', () => {
    for (const address of [
      '127.0.0.1',
      '10.2.3.4',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::ffff:127.0.0.1',
      'fd00::1',
      'fe80::1',
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
      '224.0.0.1',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect(isPrivateAddress(address), address).toBe(false);
  });
});
