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
