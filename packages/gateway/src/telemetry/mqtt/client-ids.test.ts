import { PassThrough } from 'node:stream';
import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { ClientIdClaims, provisioningClientId } from './client-ids.js';

// The claims alone, without a broker: what aedes would do with the clients is in client-id-takeover.test.ts.
const client = (id: string) => ({ id, closed: false, conn: new PassThrough() }) as unknown as Client & { conn: PassThrough };
const ended = (stream: PassThrough) => new Promise<void>((resolve) => stream.once('close', () => setImmediate(resolve)));

describe('ClientIdClaims', () => {
  it('holds a client id for its device from the claim on, before any broker registers the client', () => {
    const claims = new ClientIdClaims();
    expect(claims.claim(client('badge-1'), 't1/b1')).toBe(true);
    // Another device, even one whose CONNECT came at the same moment, is refused the id.
    expect(claims.claim(client('badge-1'), 't1/b2')).toBe(false);
    // The same id in another tenant is another device too.
    expect(claims.claim(client('badge-1'), 't2/b1')).toBe(false);
    // The same device connecting again takes its id over.
    expect(claims.claim(client('badge-1'), 't1/b1')).toBe(true);
    expect(claims.claim(client('badge-2'), 't1/b2')).toBe(true);
  });

  it("frees an id when its holder's connection ends, and not when an older connection of that device ends", async () => {
    const claims = new ClientIdClaims();
    const older = client('badge-1');
    const newer = client('badge-1');
    expect(claims.claim(older, 't1/b1')).toBe(true);
    expect(claims.claim(newer, 't1/b1')).toBe(true);
    older.conn.destroy();
    await ended(older.conn);
    expect(claims.claim(client('badge-1'), 't1/b2')).toBe(false);
    newer.conn.destroy();
    await ended(newer.conn);
    expect(claims.claim(client('badge-1'), 't1/b2')).toBe(true);
  });

  it('lets another device have the id of a holder aedes has closed, though its stream has not ended yet', () => {
    const claims = new ClientIdClaims();
    const holder = client('badge-1');
    expect(claims.claim(holder, 't1/b1')).toBe(true);
    holder.closed = true;
    expect(claims.claim(client('badge-1'), 't1/b2')).toBe(true);
  });

  it('makes every provisioning connection a client id of its own', () => {
    const ids = new Set(Array.from({ length: 100 }, provisioningClientId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^provision\/[0-9a-f-]{36}$/);
  });
});
