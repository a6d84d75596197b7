import gcoord from 'gcoord';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject } from '@civicloop/test-support/gateway-harness.js';
import { useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import { openWithLibsodium } from '@civicloop/test-support/libsodium-seal.js';
import {
  androidAppliesWaypoints,
  iosAppliesWaypoints,
  owntracksAndroidConnection,
  owntracksAndroidSubscriptions,
  owntracksIosConnection,
  type OwnTracksRegion,
} from '@civicloop/test-support/owntracks-app.js';
import { distanceMeters } from '../../geometry/distance.js';

const devices = useDeviceGateway();

let staffCount = 0;
/** A worker in the sanitation unit with an OwnTracks phone registered to them. */
async function workerWithPhone(device: Record<string, unknown> = {}) {
  const staffId = `w-ot-jobs-${++staffCount}`;
  const staff = await inject(devices.gw, 'POST', '/v1/staff', {
    auth: devices.gw.tenant.secretKey,
    body: { id: staffId, name: staffId, role: 'worker', unitId: 'sanitation' },
  });
  expect(staff.status, JSON.stringify(staff.body)).toBe(201);
  return { staffId, ...(await devices.register({ name: `Phone of ${staffId}`, staffId, unitId: 'sanitation', ...device })) };
}

/** Collects the commands an app is sent on its cmd topic, in order, opened with its key when it encrypts. */
function commandsTo(app: MqttClient, key?: string) {
  const received: Record<string, unknown>[] = [];
  app.on('message', (topic, payload) => {
    if (!topic.endsWith('/cmd')) return;
    const message = JSON.parse(payload.toString()) as Record<string, unknown>;
    received.push(key ? { ...(JSON.parse(openWithLibsodium(key, message.data as string)) as object), sealed: true } : message);
  });
  return received;
}

async function report(body: Record<string, unknown> = {}): Promise<{ id: string; number: string; location: { lat: number; lon: number } }> {
  const res = await inject(devices.gw, 'POST', '/v1/tickets', { auth: devices.gw.tenant.secretKey, body: { ...BIN_REPORT, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; number: string; location: { lat: number; lon: number } };
}

async function act(ticketId: string, command: string, body: Record<string, unknown>, auth = devices.gw.tenant.secretKey) {
  const res = await inject(devices.gw, 'POST', `/v1/tickets/${ticketId}/${command}`, { auth, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const waiting = async (deviceId: string) =>
  (await inject(devices.gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: devices.gw.tenant.secretKey })).body.waiting as unknown[];

/** The regions an app holds, by name, radius and whether it watches them, in slot order. */
const regionsOf = (regions: Map<unknown, OwnTracksRegion>) =>
  [...regions.values()].sort((a, b) => a.tst - b.tst).map((r) => ({ name: r.name, radius: r.radius, watched: r.watched }));

/** Connects as OwnTracks for Android does with its default settings; the commands it is then sent, in order. */
async function androidApp(worker: Awaited<ReturnType<typeof workerWithPhone>>) {
  const { credential, device } = worker;
  const settings = { username: credential.username, password: credential.password, deviceId: device.id };
  const app = await devices.connect(credential.username, credential.password, owntracksAndroidConnection(settings));
  return { app, settings, received: commandsTo(app) };
}

describe("an OwnTracks phone's jobs, as regions in the app", () => {
  it('Android: each assignment and withdrawal sends the jobs as they are, slot by slot, so the app lists exactly the jobs its wearer still has', async () => {
    const worker = await workerWithPhone();
    const { device } = worker;
    const { app, settings, received } = await androidApp(worker);
    // The app's one SUBSCRIBE, as in owntracks-apps.test.ts: only its own command topic is granted.
    await app.subscribeAsync(owntracksAndroidSubscriptions(settings), { qos: 2 }).catch(() => undefined);

    const near = await report();
    const far = await report({ location: { lat: 23.1372, lon: 113.3245, accuracy: 8, address: 'Zhujiang New Town' } });
    await act(near.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await expect.poll(() => received.length).toBe(1);
    await act(far.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await expect.poll(() => received.length).toBe(2);

    const android = new Map<number, OwnTracksRegion>();
    for (const command of received) androidAppliesWaypoints(android, command);
    const [first, second] = [...android.values()].sort((a, b) => a.tst - b.tst);
    // The oldest job first, each a circle of ARRIVAL_ENTER_METERS (30) around its ticket.
    expect(first).toMatchObject({ lat: near.location.lat, lon: near.location.lon, radius: 30, watched: true });
    expect(first!.name).toBe(`${near.number} 垃圾桶满溢 Tianhe Rd bus stop`);
    expect(second).toMatchObject({ lat: far.location.lat, lon: far.location.lon, radius: 30 });
    expect(second!.name.startsWith(far.number)).toBe(true);
    expect(received[1]).toMatchObject({ _type: 'cmd', action: 'setWaypoints', commandId: expect.any(String) });

    // The near job goes to the unit with nobody named: the phone is sent its jobs again, and the
    // slot the near job had now holds the far one; the second slot is freed, not left behind.
    await act(near.id, 'reassign', { unitId: 'sanitation' });
    await expect.poll(() => received.length).toBe(3);
    androidAppliesWaypoints(android, received[2]!);
    expect(regionsOf(android)).toEqual([
      { name: second!.name, radius: 30, watched: true },
      { name: 'CivicLoop (no job)', radius: 0, watched: true },
    ]);
    // The same commands as OwnTracks for iOS takes them: the free slot is not watched.
    const ios = new Map<string, OwnTracksRegion>();
    for (const command of received) iosAppliesWaypoints(ios, command);
    expect(regionsOf(ios)).toEqual([
      { name: second!.name, radius: 30, watched: true },
      { name: 'CivicLoop (no job)', radius: 0, watched: false },
    ]);
    // Each was acknowledged by the app (a persistent session): nothing waits for it.
    await expect.poll(() => waiting(device.id)).toEqual([]);
  });

  it("a job its wearer resolves leaves the phone's regions, and comes back when its verification fails; their vehicle hears the rework only", async () => {
    const worker = await workerWithPhone();
    const { credential, device } = worker;
    const { app, received } = await androidApp(worker);
    await app.subscribeAsync(`owntracks/${credential.username}/${device.id}/cmd`, { qos: 2 });
    // A phone is known for an OwnTracks one by what it reports: its newest position came from the app.
    const tst = Math.floor(Date.now() / 1000) - 30;
    await app.publishAsync(`owntracks/${credential.username}/${device.id}`, JSON.stringify({ _type: 'location', lat: 23.12, lon: 113.26, tst }), { qos: 1 });
    // The vehicle the worker drives, a native device on its own command topic: it is given their jobs too.
    const vehicle = await devices.register({ kind: 'vehicle', name: `Truck of ${worker.staffId}`, staffId: worker.staffId, unitId: 'sanitation' });
    const vehicleClient = await devices.connect(vehicle.credential.username, vehicle.credential.password);
    const vehicleHeard: { type: string }[] = [];
    vehicleClient.on('message', (_topic, payload) => vehicleHeard.push(JSON.parse(payload.toString()) as { type: string }));
    await vehicleClient.subscribeAsync(nativeTopic(devices.gw.tenant.id, 'vehicle', vehicle.device.id, 'cmd'), { qos: 1 });

    const done = await report();
    const open = await report({ location: { lat: 23.1372, lon: 113.3245, accuracy: 8, address: 'Zhujiang New Town' } });
    await act(done.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await act(open.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await expect.poll(() => received.length).toBe(2);
    const asWorker = await devices.gw.tenant.token(worker.staffId, 'worker', { unitId: 'sanitation' });
    for (const [command, body] of [
      ['accept', {}],
      ['arrive', {}],
      ['resolve', { photos: [{ ref: 'https://photos.example.org/after-1.jpg' }] }],
    ] as const)
      await act(done.id, command, body, asWorker);

    await expect.poll(() => received.length).toBe(3);
    const android = new Map<number, OwnTracksRegion>();
    for (const command of received) androidAppliesWaypoints(android, command);
    const openName = `${open.number} 垃圾桶满溢 Zhujiang New Town`;
    expect(regionsOf(android)).toEqual([
      { name: openName, radius: 30, watched: true },
      { name: 'CivicLoop (no job)', radius: 0, watched: true },
    ]);

    // The supervisor finds it not done: it is the worker's again, for rework.
    await act(done.id, 'verify', { outcome: 'fail', note: 'Still overflowing' });
    await expect.poll(() => received.length).toBe(4);
    androidAppliesWaypoints(android, received[3]!);
    expect(regionsOf(android).map((r) => r.name)).toEqual([`${done.number} 垃圾桶满溢 Tianhe Rd bus stop`, openName]);
    // The vehicle heard the two assignments and the rework, with the supervisor's note, not the resolution.
    await expect.poll(() => vehicleHeard.length).toBe(3);
    await expect.poll(() => waiting(vehicle.device.id)).toEqual([]);
    expect(vehicleHeard.map((c) => c.type)).toEqual(['assignment', 'assignment', 'rework']);
    expect(vehicleHeard[2]).toMatchObject({ ticketId: done.id, number: done.number, note: 'Still overflowing' });
  });

  it("arrives on site by the app's own messages: its transition into the job's region, then its next fix there, dated when it entered", async () => {
    const worker = await workerWithPhone();
    const { credential, device } = worker;
    const base = `owntracks/${credential.username}/${device.id}`;
    const { app, received } = await androidApp(worker);
    await app.subscribeAsync(`${base}/cmd`, { qos: 2 });
    const ticket = await report();
    await act(ticket.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await act(ticket.id, 'accept', {}, await devices.gw.tenant.token(worker.staffId, 'worker', { unitId: 'sanitation' }));
    await expect.poll(() => received.length).toBe(1);
    const [region] = (received[0]!.waypoints as { waypoints: { desc: string; lat: number; lon: number; tst: number }[] }).waypoints;

    // In its Significant mode, standing still, the app reports on entering the region (a
    // transition and a location, trigger "c", as LocationProcessor.onWaypointTransition sends
    // them) and then only at its ping, every 15 minutes by default (trigger "p").
    // The app's times are whole seconds: it enters in the first whole second after the acceptance
    // (an arrival is never dated before it, nor after now); the ping's fix comes 4 minutes on, as
    // far ahead of the gateway's clock as a fix may be, for the test cannot wait 15.
    const status = async () => (await inject(devices.gw, 'GET', `/v1/tickets/${ticket.id}`, { auth: devices.gw.tenant.secretKey })).body;
    const entered = Math.ceil(Date.parse((await status()).acceptedAt) / 1000);
    await expect.poll(() => Date.now() >= entered * 1000).toBe(true);
    const at = { lat: region!.lat + 0.0001, lon: region!.lon, acc: 8 };
    await app.publishAsync(
      `${base}/event`,
      JSON.stringify({ _type: 'transition', event: 'enter', desc: region!.desc, wtst: region!.tst, t: 'c', tst: entered, tid: 'li', ...at }),
      { qos: 1 },
    );
    await app.publishAsync(base, JSON.stringify({ _type: 'location', t: 'c', tst: entered, tid: 'li', ...at }), { qos: 1 });
    expect((await status()).status).toBe('accepted');
    await app.publishAsync(base, JSON.stringify({ _type: 'location', t: 'p', tst: entered + 4 * 60, tid: 'li', ...at }), { qos: 1 });
    await expect.poll(async () => (await status()).status).toBe('on_site');
    expect((await status()).arrivedAt).toBe(new Date(entered * 1000).toISOString());
  });

  it('iOS with encryption and a GCJ-02 phone: the regions come sealed, in the points the phone reports in, named without colons', async () => {
    const worker = await workerWithPhone({ ownTracksKey: 'jobs key', crs: 'gcj02' });
    const { credential, device } = worker;
    const settings = { username: credential.username, password: credential.password, deviceId: device.id };
    const app = await devices.connect(credential.username, credential.password, owntracksIosConnection(settings));
    const received = commandsTo(app, 'jobs key');
    await app.subscribeAsync(`owntracks/${credential.username}/${device.id}/cmd`, { qos: 1 });

    // A colon would cut the name short on iOS: what follows it is read as a beacon's uuid.
    const ticket = await report({ location: { lat: 23.1291, lon: 113.2644, accuracy: 12, address: 'Gate 3: west side' } });
    await act(ticket.id, 'dispatch', { unitId: 'sanitation', assigneeId: worker.staffId });
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toMatchObject({ _type: 'cmd', action: 'setWaypoints', sealed: true });

    const ios = new Map<string, OwnTracksRegion>();
    iosAppliesWaypoints(ios, received[0]!);
    const [region] = [...ios.values()];
    expect(region!.name).toBe(`${ticket.number} 垃圾桶满溢 Gate 3 west side`);
    expect(region!.watched).toBe(true);
    const [lon, lat] = gcoord.transform([ticket.location.lon, ticket.location.lat], gcoord.WGS84, gcoord.GCJ02);
    expect(distanceMeters(region!, { lat, lon })).toBeLessThan(1);
    // GCJ-02 is offset some hundreds of meters from WGS-84 here: sent unconverted, the phone's
    // region would lie away from where its own fixes put the job.
    expect(distanceMeters(region!, ticket.location)).toBeGreaterThan(100);
  });
});
