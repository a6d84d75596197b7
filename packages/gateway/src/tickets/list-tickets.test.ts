import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let clock = new Date('2026-11-20T01:00:00Z');
const ids: Record<string, string> = {};

beforeAll(async () => {
  gw = await startTestGateway();
  gw.services.now = () => clock;
  const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
  const make = async (name: string, body: object, minutes: number) => {
    clock = new Date(Date.parse('2026-11-20T01:00:00Z') + minutes * 60_000);
    const res = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, ...body } });
    ids[name] = res.body.id;
  };
  await make('bin', {}, 0);
  await make('leak', { category: 'gas.leak', description: 'Smell of gas near Huacheng Square', channel: 'hotline' }, 1);
  await make('road', { category: 'municipal.road_damage', description: 'Pothole', location: { lat: 23.12, lon: 113.3, address: 'Zhujiang New Town' } }, 2);
  for (let i = 0; i < 12; i++) await make(`bulk${i}`, { description: `bulk report ${i}` }, 10 + i);
  clock = new Date('2026-11-20T02:00:00Z');
  await inject(gw, 'POST', `/v1/tickets/${ids.leak}/dispatch`, { auth: dispatcher, body: { unitId: 'municipal', assigneeId: 'w-3' } });
  await inject(gw, 'POST', `/v1/tickets/${ids.bin}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
});
afterAll(async () => gw?.close());

const list = async (query: string) => (await inject(gw, 'GET', `/v1/tickets?${query}`, { auth: gw.tenant.secretKey })).body;

describe('GET /v1/tickets', () => {
  it('filters by status, category, unit, assignee, channel and text', async () => {
    expect((await list('status=dispatched')).items.map((t: { id: string }) => t.id).sort()).toEqual([ids.bin, ids.leak].sort());
    expect((await list('category=gas.leak')).items.map((t: { id: string }) => t.id)).toEqual([ids.leak]);
    expect((await list('unitId=sanitation')).items.map((t: { id: string }) => t.id)).toEqual([ids.bin]);
    expect((await list('assigneeId=w-3')).items.map((t: { id: string }) => t.id)).toEqual([ids.leak]);
    expect((await list('channel=hotline')).items.map((t: { id: string }) => t.id)).toEqual([ids.leak]);
    expect((await list('q=zhujiang')).items.map((t: { id: string }) => t.id)).toEqual([ids.road]);
    expect((await list('status=reported,dispatched&category=gas.leak')).items).toHaveLength(1);
    expect((await list('status=closed')).items).toEqual([]);
  });

  it('filters by creation time range', async () => {
    const page = await list(`createdFrom=${encodeURIComponent('2026-11-20T01:00:30Z')}&createdTo=${encodeURIComponent('2026-11-20T01:02:00Z')}`);
    expect(page.items.map((t: { id: string }) => t.id).sort()).toEqual([ids.leak, ids.road].sort());
  });

  it('shows overdue tickets once the resolve deadline passes (gas leak: 4 h x 0.25)', async () => {
    clock = new Date('2026-11-20T02:30:00Z');
    expect((await list('overdue=true')).items).toEqual([]);
    clock = new Date('2026-11-20T03:01:00Z');
    const overdue = await list('overdue=true');
    expect(overdue.items.map((t: { id: string }) => t.id)).toEqual([ids.leak]);
    expect(overdue.items[0].overdue).toBe(true);
    expect(overdue.items[0].sla.resolveBy).toBe('2026-11-20T03:00:00.000Z');
  });

  it('pages newest first with a cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { id: string; createdAt: string }[]; nextCursor: string | null } = await list(`limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(15);
    expect(new Set(seen).size).toBe(15);
    expect(seen[0]).toBe(ids.bulk11);
    expect(seen.at(-1)).toBe(ids.bin);
  });
});
