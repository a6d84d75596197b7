import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type RealtimeMessage } from './index.js';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CivicLoop } from './client.js';
import { ConflictError } from './errors.js';

let gw: TestGateway;
let admin: CivicLoop;

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
});
afterAll(async () => gw?.close());

// Guangzhou city centre: WGS-84 as GPS gives it and as AMap / WeChat (GCJ-02) show it, ~600 m apart.
const WGS84 = { lat: 23.1291, lon: 113.2644 };
const GCJ02 = { lat: 23.126423, lon: 113.26973 };
const metresBetween = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6_371_000;
};

describe('coordinate systems through the SDK', () => {
  it('files a GCJ-02 report, keeps it in WGS-84 with the point as sent, and reads it back in any system', async () => {
    const ticket = await admin.tickets.create({ category: 'sanitation.bin_overflow', description: 'from an AMap pin', location: { ...GCJ02, crs: 'gcj02' } });
    expect(metresBetween(ticket.location, WGS84)).toBeLessThan(2);
    expect(ticket.reportedLocation).toEqual({ ...GCJ02, crs: 'gcj02' });

    const asGcj = await admin.tickets.get(ticket.id, { crs: 'gcj02' });
    expect(metresBetween(asGcj.location, GCJ02)).toBeLessThan(2);
    const asBd = await admin.tickets.getByNumber(ticket.number, { crs: 'bd09' });
    // BD-09 is a further ~700 m off GCJ-02; it is neither of the other two.
    expect(metresBetween(asBd.location, GCJ02)).toBeGreaterThan(300);
    const page = await admin.tickets.list({ crs: 'gcj02', limit: 100 });
    const listed = page.items.find((t) => t.id === ticket.id)!;
    expect(metresBetween(listed.location, GCJ02)).toBeLessThan(2);
  });

  it('draws a zone in GCJ-02 and gives its outline back in WGS-84 or as drawn', async () => {
    const d = 0.002;
    const ring: [number, number][] = [
      [GCJ02.lon - d, GCJ02.lat - d],
      [GCJ02.lon + d, GCJ02.lat - d],
      [GCJ02.lon + d, GCJ02.lat + d],
      [GCJ02.lon - d, GCJ02.lat + d],
      [GCJ02.lon - d, GCJ02.lat - d],
    ];
    const zone = await admin.zones.create({
      id: 'amap-drawn',
      name: 'Drawn on AMap',
      type: 'grid',
      geometry: { type: 'Polygon', coordinates: [ring] },
      crs: 'gcj02',
    });
    const [lon0, lat0] = (zone.geometry as { coordinates: number[][][] }).coordinates[0]![0]!;
    expect(metresBetween({ lat: lat0!, lon: lon0! }, { lat: ring[0]![1]!, lon: ring[0]![0]! })).toBeGreaterThan(300);
    const asDrawn = await admin.zones.get(zone.id, { crs: 'gcj02' });
    const [lon1, lat1] = (asDrawn.geometry as { coordinates: number[][][] }).coordinates[0]![0]!;
    expect(metresBetween({ lat: lat1!, lon: lon1! }, { lat: ring[0]![1]!, lon: ring[0]![0]! })).toBeLessThan(2);
    expect((await admin.zones.list({ crs: 'gcj02' })).some((z) => z.id === zone.id)).toBe(true);
  });

  it('asks a terminal that is not connected for its position and gets a typed refusal', async () => {
    const { device } = await admin.devices.register({ kind: 'vehicle', name: 'Truck 7', protocol: 'jt808', terminalId: '013800138007' });
    const refused = await admin.devices.locate(device.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as ConflictError).code).toBe('CL_ERR_DEVICE_UNREACHABLE');
  });

  it("confirms a terminal's SOS for it: the command waits in its state until the terminal has it", async () => {
    const { device } = await admin.devices.register({ kind: 'vehicle', name: 'Truck 8', protocol: 'jt808', terminalId: '013800138008' });
    const sent = await admin.devices.confirmAlarms(device.id, ['sos', 'illegal_displacement']);
    expect(sent).toEqual({ deviceId: device.id, alarms: ['sos', 'illegal_displacement'], commandId: expect.any(String) });
    const state = await admin.devices.state(device.id);
    expect(state.waiting).toEqual([
      { commandId: sent.commandId, type: 'alarm_confirmation', alarms: ['sos', 'illegal_displacement'], givenAt: expect.any(String) },
    ]);
  });
});

describe('device alerts through the SDK', () => {
  it('subscribeAll() yields a phone SOS as a device alert beside the ticket it opens', async () => {
    const dispatcher = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'disp-9', role: 'dispatcher' }),
    });
    const { device, credential } = await admin.devices.register({ kind: 'badge', name: 'Phone of w-9', staffId: 'w-9' });
    const subscription = dispatcher.subscribeAll();
    const seen: RealtimeMessage[] = [];
    const collected = (async () => {
      for await (const message of subscription) {
        seen.push(message);
        if (seen.some((m) => m.kind === 'device') && seen.some((m) => m.kind === 'ticket')) break;
      }
    })();
    // Let the stream open before the alarm is raised (it starts with new events).
    for (let i = 0; i < 250 && gw.streams.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gw.streams.size).toBe(1);
    const sos = await fetch(
      `${gw.url}/v1/osmand?key=${credential.password}&id=${device.id}&lat=23.12&lon=113.25&timestamp=${Math.floor(Date.now() / 1000) - 1}&alarm=sos`,
      { method: 'POST' },
    );
    expect(sos.status).toBe(200);
    await collected;
    subscription.close();
    const alert = seen.find((m) => m.kind === 'device');
    expect(alert).toMatchObject({ kind: 'device', alert: { type: 'sos', deviceId: device.id, staffId: 'w-9' } });
    expect(alert?.kind === 'device' && alert.streamId).toMatch(/^\d+-\d+$/);
    const ticket = seen.find((m) => m.kind === 'ticket');
    expect(ticket?.kind === 'ticket' && ticket.event.event.type).toBe('reported');

    // Read again when a console opens: the same alert with its stream id, its place in WGS-84 or, asked, in GCJ-02.
    const [newest] = await dispatcher.fleet.alerts({ limit: 1 });
    expect(newest).toEqual({ streamId: alert?.kind === 'device' && alert.streamId, alert: alert?.kind === 'device' && alert.alert });
    const [onAmap] = await dispatcher.fleet.alerts({ limit: 1, crs: 'gcj02' });
    expect(onAmap!.streamId).toBe(newest!.streamId);
    const shifted = metresBetween({ lat: onAmap!.alert.lat!, lon: onAmap!.alert.lon! }, { lat: 23.12, lon: 113.25 });
    expect(shifted).toBeGreaterThan(400);
    expect(shifted).toBeLessThan(800);
  });
});
