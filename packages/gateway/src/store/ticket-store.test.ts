import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';

let gw: TestGateway;
let ticketId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  ticketId = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body.id;
});
afterAll(async () => gw?.close());

describe('TicketStore.getWith: a ticket and records beside it, in one command', () => {
  it('answers the ticket as get does, and each named field of each hash in order, null where missing', async () => {
    const { tickets } = gw.services;
    const keys = tenantKeys(gw.tenant.id);
    const found = await tickets.getWith(gw.tenant.id, ticketId, [
      { key: keys.staff, field: 'w-3' },
      { key: keys.units, field: 'no-such-unit' },
      { key: keys.units, field: 'sanitation' },
    ]);
    expect(found.ticket).toEqual(await tickets.get(gw.tenant.id, ticketId));
    expect(found.ticket?.number).toMatch(/-\d{8}-\d{4}$/);
    expect(JSON.parse(found.beside[0]!)).toMatchObject({ id: 'w-3', unitId: 'municipal' });
    expect(found.beside[1]).toBeNull();
    expect(JSON.parse(found.beside[2]!)).toMatchObject({ id: 'sanitation', active: true });
  });

  it('still reads the records when the ticket does not exist, and answers no ticket', async () => {
    const keys = tenantKeys(gw.tenant.id);
    const found = await gw.services.tickets.getWith(gw.tenant.id, 'tk_missing', [{ key: keys.units, field: 'municipal' }]);
    expect(found.ticket).toBeUndefined();
    expect(JSON.parse(found.beside[0]!)).toMatchObject({ id: 'municipal' });
  });

  it('with nothing beside, is get', async () => {
    const found = await gw.services.tickets.getWith(gw.tenant.id, ticketId, []);
    expect(found).toEqual({ ticket: await gw.services.tickets.get(gw.tenant.id, ticketId), beside: [] });
  });
});

describe('TicketStore.getPage: list pages through the read cache', () => {
  const keyOf = (id: string) => tenantKeys(gw.tenant.id).ticket(id);

  it('parses a ticket once per revision: the next page gets the same frozen object, the document not sent again', async () => {
    const { tickets } = gw.services;
    const [first] = await tickets.getPage(gw.tenant.id, [ticketId]);
    expect(first).toEqual(await tickets.get(gw.tenant.id, ticketId));
    expect(Object.isFrozen(first)).toBe(true);
    const [again] = await tickets.getPage(gw.tenant.id, [ticketId]);
    expect(again).toBe(first);
    // What the script answers for a tag the caller holds: 1 in the tag's place, nothing else.
    const rev = await gw.services.redis.hget(keyOf(ticketId), 'r');
    expect(rev).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-z]+$/);
    expect(await gw.services.redis.civicloopReadTickets(1, keyOf(ticketId), rev!)).toEqual([null, 1, null]);
    // getMany stays a private copy, the caller's to change.
    const [own] = await tickets.getMany(gw.tenant.id, [ticketId]);
    expect(own).toEqual(first);
    expect(Object.isFrozen(own)).toBe(false);
  });

  it('shows a write at once: every commit stores a new tag', async () => {
    const { tickets } = gw.services;
    const [before] = await tickets.getPage(gw.tenant.id, [ticketId]);
    const revBefore = await gw.services.redis.hget(keyOf(ticketId), 'r');
    const res = await inject(gw, 'POST', `/v1/tickets/${ticketId}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' } });
    expect(res.status).toBe(200);
    expect(await gw.services.redis.hget(keyOf(ticketId), 'r')).not.toBe(revBefore);
    const [after] = await tickets.getPage(gw.tenant.id, [ticketId]);
    expect(after).not.toBe(before);
    expect(after?.status).toBe('dispatched');
    expect(after).toEqual(await tickets.get(gw.tenant.id, ticketId));
  });

  it('a document put back at the same version but another tag (a restore, or writes lost in a failover) is read afresh', async () => {
    const { tickets } = gw.services;
    const [cached] = await tickets.getPage(gw.tenant.id, [ticketId]);
    const stored = JSON.parse((await gw.services.redis.hget(keyOf(ticketId), 'doc'))!);
    // Same version number, different content, as another gateway's lost-then-rewritten write would leave it.
    await gw.services.redis.hset(keyOf(ticketId), 'doc', JSON.stringify({ ...stored, description: 'written elsewhere' }), 'r', 'other-process.1');
    const [fresh] = await tickets.getPage(gw.tenant.id, [ticketId]);
    expect(fresh?.version).toBe(cached?.version);
    expect(fresh?.description).toBe('written elsewhere');
    await gw.services.redis.hset(keyOf(ticketId), 'doc', JSON.stringify(stored), 'r', 'other-process.2');
    expect((await tickets.getPage(gw.tenant.id, [ticketId]))[0]).toEqual(await tickets.get(gw.tenant.id, ticketId));
  });

  it('a ticket stored before revision tags is parsed on every read, never cached; a deleted one is missing', async () => {
    const { tickets } = gw.services;
    const created = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body;
    await tickets.getPage(gw.tenant.id, [created.id]);
    await gw.services.redis.hdel(keyOf(created.id), 'r');
    const [a] = await tickets.getPage(gw.tenant.id, [created.id]);
    const [b] = await tickets.getPage(gw.tenant.id, [created.id]);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(Object.isFrozen(a)).toBe(false);
    expect(a?.number).toBe(created.number);
    await gw.services.redis.del(keyOf(created.id));
    expect(await tickets.getPage(gw.tenant.id, [created.id, ticketId, 'tk_missing'])).toEqual([
      undefined,
      await tickets.get(gw.tenant.id, ticketId),
      undefined,
    ]);
  });

  it("the script reads each key's held tag from its place in the joined argument, whatever the others hold", async () => {
    const { redis } = gw.services;
    const other = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body;
    const [revA, revB] = [await redis.hget(keyOf(ticketId), 'r'), await redis.hget(keyOf(other.id), 'r')];
    const [docA, docB] = [await redis.hget(keyOf(ticketId), 'doc'), await redis.hget(keyOf(other.id), 'doc')];
    const [numberA, numberB] = [await redis.hget(keyOf(ticketId), 'number'), await redis.hget(keyOf(other.id), 'number')];
    const read = (held: string | undefined, ...ids: string[]) =>
      held === undefined ? redis.civicloopReadTickets(ids.length, ...ids.map(keyOf)) : redis.civicloopReadTickets(ids.length, ...ids.map(keyOf), held);
    const fresh = (n: string | null, r: string | null, d: string | null) => [n, r, d];
    // Held, held: both answered as unchanged.
    expect(await read(`${revA} ${revB}`, ticketId, other.id)).toEqual([null, 1, null, null, 1, null]);
    // None held for the first (an empty place), the second's held.
    expect(await read(` ${revB}`, ticketId, other.id)).toEqual([...fresh(numberA, revA, docA), null, 1, null]);
    // A stale tag, then a missing ticket, then a held tag: the places stay in step.
    expect(await read(`stale.1 x.2 ${revB}`, ticketId, 'tk_missing', other.id)).toEqual([...fresh(numberA, revA, docA), null, null, null, null, 1, null]);
    // Fewer tags than keys, or none at all: the rest count as none held.
    expect(await read(`${revA}`, ticketId, other.id)).toEqual([null, 1, null, ...fresh(numberB, revB, docB)]);
    expect(await read(undefined, ticketId, other.id)).toEqual([...fresh(numberA, revA, docA), ...fresh(numberB, revB, docB)]);
    // The second key's tag offered for the first: not its own, so read afresh.
    expect(await read(`${revB} ${revA}`, ticketId, other.id)).toEqual([...fresh(numberA, revA, docA), ...fresh(numberB, revB, docB)]);
  });

  it('a ticket whose stored tag holds a space is not cached, and the tickets after it on the page still are', async () => {
    const { tickets, redis } = gw.services;
    const spaced = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body;
    await redis.hset(keyOf(spaced.id), 'r', 'written by hand.1');
    const [a, cachedA] = await tickets.getPage(gw.tenant.id, [spaced.id, ticketId]);
    const [b, cachedB] = await tickets.getPage(gw.tenant.id, [spaced.id, ticketId]);
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
    expect(Object.isFrozen(b)).toBe(false);
    expect(cachedB).toBe(cachedA);
    expect(cachedB).toEqual(await tickets.get(gw.tenant.id, ticketId));
  });
});
