import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, squareZone } from '@civicloop/test-support/gateway-harness.js';
import { CivicLoop } from './client.js';
import { InvalidRequestError, NotFoundError } from './errors.js';

// The operations side through the SDK against a real gateway: black spots and their
// re-inspections, the weekly inspection round, the monthly ranking, the telemetry counters,
// provisioning profiles.
let gw: TestGateway;
let server: CivicLoop;
beforeAll(async () => {
  gw = await startTestGateway({ schedulerEnabled: false, duplicateRadiusMeters: 0 }, { telemetry: true });
  server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
});
afterAll(async () => gw?.close());

describe('the SDK on the operations side', () => {
  it('reads one black spot and records its re-inspections', async () => {
    const spot = { lat: 23.1351, lon: 113.3211 };
    for (let i = 0; i < 5; i++) await server.tickets.create({ ...BIN_REPORT, location: spot });
    const [opened] = await server.blackSpots({ status: 'open' });
    expect(opened).toBeDefined();
    expect(await server.blackSpot(opened!.code)).toMatchObject({ code: opened!.code, status: 'open', inspections: [] });

    // Passed, but reports came in days ago at most: not quiet long enough to close it.
    const passed = await server.inspectBlackSpot(opened!.code, { passed: true, note: 'Clean today' });
    expect(passed.closed).toBe(false);
    expect(passed.spot.inspections).toHaveLength(1);
    // Failed: what was found becomes a ticket, linked to the spot.
    const failed = await server.inspectBlackSpot(opened!.code, { passed: false, category: 'sanitation.scattered_litter', note: 'Litter again' });
    const finding = failed.spot.inspections.at(-1)!.findingTicketId!;
    expect((await server.tickets.get(finding)).externalId).toBe(`blackspot:${opened!.code}`);

    await expect(server.blackSpot('BS-NOPE-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.inspectBlackSpot(opened!.code, { passed: false })).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it("draws a week's inspection round, the same for the same seed", async () => {
    await server.zones.create({ id: 'd-1', name: 'District One', type: 'district', geometry: squareZone(113.2, 23.0) });
    for (const id of ['v-a', 'v-b', 'v-c', 'v-d']) {
      await server.zones.create({ id, name: `Village ${id}`, type: 'village', parentId: 'd-1', geometry: squareZone(113.2, 23.0) });
    }
    const round = await server.zones.inspectionRound({ week: '2026-W49', seed: 'fixed', villages: 2 });
    expect(round).toMatchObject({ week: '2026-W49', seed: 'fixed' });
    expect(round.districts).toEqual([{ districtId: 'd-1', mustCheck: expect.toBeOneOf([null, expect.any(String)]), villages: expect.any(Array) }]);
    expect(round.districts[0]!.villages).toHaveLength(2);
    expect(await server.zones.inspectionRound({ week: '2026-W49', seed: 'fixed', villages: 2 })).toEqual(round);
    await expect(server.zones.inspectionRound({ week: '2026-49' })).rejects.toBeInstanceOf(InvalidRequestError);
  });

  it('ranks the zones of a type for a month, and reads the telemetry counters', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const ranking = await server.monthlyRanking({ month, type: 'village', limit: 2 });
    expect(ranking).toMatchObject({ month, type: 'village', zones: 4 });
    expect(ranking.best).toHaveLength(2);
    expect(ranking.best[0]).toEqual(expect.objectContaining({ zoneId: expect.stringMatching(/^v-/), score: expect.any(Number), tickets: expect.any(Number) }));
    const truck = await server.devices.register({ kind: 'vehicle', name: 'Truck with a camera', protocol: 'jt808', terminalId: '13600000001' });
    expect(await server.devices.photos(truck.device.id)).toEqual([]);
    const commandId = await server.devices.takePhoto(truck.device.id, { channel: 2 });
    expect((await server.devices.state(truck.device.id)).waiting).toMatchObject([{ commandId, type: 'take_photo' }]);
    const counters = await server.devices.counters();
    expect(counters).toEqual(expect.objectContaining({ messages: expect.any(Number), refusedConnects: expect.any(Number) }));
  });

  it('makes, lists and deletes a provisioning profile, whose key and secret provision a device', async () => {
    const { profile, provisionDeviceSecret } = await server.provisioningProfiles.create({ name: 'Badges, batch 2026-12', kind: 'badge', unitId: 'sanitation' });
    expect(await server.provisioningProfiles.list()).toEqual([profile]);
    const answer = await fetch(`${gw.url}/api/v1/provision`, {
      method: 'POST',
      body: JSON.stringify({ deviceName: 'badge-8601', provisionDeviceKey: profile.provisionDeviceKey, provisionDeviceSecret }),
    });
    expect(await answer.json()).toMatchObject({ status: 'SUCCESS' });
    expect((await server.devices.list()).find((d) => d.name === 'badge-8601')).toMatchObject({ kind: 'badge', unitId: 'sanitation' });
    expect((await server.devices.list({ provisionedBy: profile.id })).map((d) => d.name)).toEqual(['badge-8601']);
    expect(await server.devices.list({ provisionedBy: 'pp_other' })).toEqual([]);
    expect(await server.provisioningProfiles.update(profile.id, { maxDevices: 1 })).toMatchObject({ maxDevices: 1, provisionedDevices: 1 });
    const rotated = await server.provisioningProfiles.rotateSecret(profile.id);
    expect(rotated.provisionDeviceSecret).not.toBe(provisionDeviceSecret);
    expect(rotated.profile).toMatchObject({ id: profile.id, provisionDeviceKey: profile.provisionDeviceKey, secretRotatedAt: expect.any(String) });
    await server.provisioningProfiles.remove(profile.id);
    expect(await server.provisioningProfiles.list()).toEqual([]);
    await expect(server.provisioningProfiles.remove(profile.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
