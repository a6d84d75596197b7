import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop, NotFoundError, PermissionDeniedError, ConflictError, signToken } from '@civicloop/sdk';
import { fromWgs84 } from '../geometry/crs.js';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// "Is it one of these?" and following a report instead of filing it again, against a real gateway.
let gw: TestGateway;
let server: CivicLoop;
const resident = async (sub: string) =>
  new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: await signToken({ secretKey: gw.tenant.secretKey, sub, role: 'citizen' }) });
const HERE = { lat: BIN_REPORT.location.lat, lon: BIN_REPORT.location.lon };
const north = (m: number) => ({ lat: BIN_REPORT.location.lat + m / 111_320, lon: BIN_REPORT.location.lon });

beforeAll(async () => {
  gw = await startTestGateway();
  server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
});
afterAll(async () => gw?.close());

describe('nearby reports and following one', () => {
  it('offers open reports of the same category nearby, nearest first, and what of them a resident may see', async () => {
    const first = await (await resident('r-first')).tickets.create({ ...BIN_REPORT, description: 'Bin overflowing at the east gate', location: north(40) });
    const nearer = await server.tickets.create({ ...BIN_REPORT, description: 'Rubbish all round the bin', location: north(10) });
    await server.tickets.create({ ...BIN_REPORT, location: north(2_000) });
    await server.tickets.create({ ...BIN_REPORT, category: 'municipal.street_light', location: north(5) });
    const closed = await server.tickets.create({ ...BIN_REPORT, location: north(20) });
    await server.tickets.reject(closed.id, { reason: 'void' });
    // A private category is never shown to another resident, though staff see it.
    await gw.services.tenants.updatePolicy(gw.tenant.id, { categoryVisibility: { 'sanitation.scattered_litter': 'private' } });
    const privateOne = await server.tickets.create({ ...BIN_REPORT, category: 'sanitation.scattered_litter', location: north(5) });

    const neighbour = await resident('r-neighbour');
    const found = await neighbour.tickets.nearby({ category: 'sanitation.bin_overflow', ...HERE });
    expect(found.map((r) => r.id)).toEqual([nearer.id, first.id]);
    expect(found[0]).toEqual({
      id: nearer.id,
      number: nearer.number,
      status: nearer.status,
      category: 'sanitation.bin_overflow',
      description: 'Rubbish all round the bin',
      distanceMeters: 10,
      createdAt: nearer.createdAt,
      mine: false,
    });
    expect(JSON.stringify(found)).not.toContain('r-first');
    expect(await neighbour.tickets.nearby({ category: 'sanitation.scattered_litter', ...HERE })).toEqual([]);
    expect((await server.tickets.nearby({ category: 'sanitation.scattered_litter', ...HERE })).map((r) => r.id)).toEqual([privateOne.id]);
    // The reporter's own report is marked as theirs.
    expect((await (await resident('r-first')).tickets.nearby({ category: 'sanitation.bin_overflow', ...HERE })).find((r) => r.id === first.id)?.mine).toBe(
      true,
    );
    // A point from a Chinese map (GCJ-02) finds the same reports.
    const gcj = fromWgs84(BIN_REPORT.location.lat, BIN_REPORT.location.lon, 'gcj02');
    expect((await neighbour.tickets.nearby({ category: 'sanitation.bin_overflow', ...gcj, crs: 'gcj02' })).map((r) => r.id)).toEqual([nearer.id, first.id]);
    // A tenant that publishes nothing shows residents nothing of others'.
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: false });
    expect(await neighbour.tickets.nearby({ category: 'sanitation.bin_overflow', ...HERE })).toEqual([]);
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
  });

  it('lets a resident follow a report instead of filing it again, once, and shows it among their reports', async () => {
    const original = await server.tickets.create({ ...BIN_REPORT, location: north(300) });
    const follower = await resident('r-follower');
    await expect(follower.tickets.get(original.id)).rejects.toBeInstanceOf(NotFoundError);
    const followed = await follower.tickets.follow(original.id, { note: 'Still there this morning' });
    expect(followed.event).toMatchObject({ type: 'follower_added', note: 'Still there this morning', data: { follower: 'r-follower' } });
    expect(followed.ticket.followers).toEqual(['r-follower']);
    // Theirs to read now, and among their reports.
    expect((await follower.tickets.get(original.id)).id).toBe(original.id);
    expect((await follower.tickets.list()).items.map((t) => t.id)).toContain(original.id);
    // Again: nothing changes.
    const again = await follower.tickets.follow(original.id);
    expect(again.event).toBeNull();
    expect((await server.tickets.history(original.id)).filter((e) => e.type === 'follower_added')).toHaveLength(1);
  });

  it('refuses staff, reports a resident may not see, and closed reports, changing nothing', async () => {
    const open = await server.tickets.create({ ...BIN_REPORT, location: north(600) });
    const dispatcher = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: await gw.tenant.token('d-1', 'dispatcher') });
    await expect(dispatcher.tickets.follow(open.id)).rejects.toBeInstanceOf(PermissionDeniedError);
    const follower = await resident('r-other');
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: false });
    await expect(follower.tickets.follow(open.id)).rejects.toMatchObject({ code: 'CL_ERR_NOT_FOUND' });
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
    await expect(follower.tickets.follow('tk_does_not_exist')).rejects.toMatchObject({ code: 'CL_ERR_NOT_FOUND' });
    await server.tickets.reject(open.id, { reason: 'void' });
    await expect(follower.tickets.follow(open.id)).rejects.toBeInstanceOf(ConflictError);
    expect((await server.tickets.get(open.id)).followers).toEqual([]);
    expect((await server.tickets.history(open.id)).map((e) => e.type)).toEqual(['reported', 'rejected']);
  });
});
