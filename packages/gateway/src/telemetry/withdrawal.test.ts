import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic, type BadgeCommand } from '@civicloop/model';
import { inject, BIN_REPORT, sendBackForRework, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let dispatcher: string;
const open: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  dispatcher = await gw.tenant.token('d-withdraw', 'dispatcher');
});
afterAll(async () => {
  for (const client of open) client.end(true);
  await gw?.close();
});

let workers = 0;
/** A worker with a badge registered to them (not yet connected). */
async function workerWithBadge() {
  const staffId = `w-withdraw-${++workers}`;
  const staff = await inject(gw, 'POST', '/v1/staff', {
    auth: gw.tenant.secretKey,
    body: { id: staffId, name: staffId, role: 'worker', unitId: 'sanitation' },
  });
  expect(staff.status, JSON.stringify(staff.body)).toBe(201);
  const res = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: { kind: 'badge', name: `Badge of ${staffId}`, staffId, unitId: 'sanitation' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const { device, credential } = res.body as { device: { id: string }; credential: { username: string; password: string } };
  return { staffId, deviceId: device.id, credential };
}

/** Connects a badge, subscribes to its command topic and collects what it is sent, in order. */
async function badgeOnline(badge: Awaited<ReturnType<typeof workerWithBadge>>) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
    username: badge.credential.username,
    password: badge.credential.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  open.push(client);
  const received: BadgeCommand[] = [];
  client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as BadgeCommand));
  await client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', badge.deviceId, 'cmd'), { qos: 1 });
  return { client, received };
}

async function report(): Promise<{ id: string; number: string }> {
  const res = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; number: string };
}

async function act(ticketId: string, command: string, body: Record<string, unknown>, auth = dispatcher) {
  const res = await inject(gw, 'POST', `/v1/tickets/${ticketId}/${command}`, { auth, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const waiting = async (deviceId: string) =>
  (await inject(gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: gw.tenant.secretKey })).body.waiting as { type: string; ticketId?: string }[];

/** What a badge was told, as (type, ticket, reason) triples: the order matters, ids do not. */
const told = (received: BadgeCommand[]) =>
  received.map((c) => (c.type === 'withdrawal' ? [c.type, c.ticketId, c.reason] : [c.type, 'ticketId' in c ? c.ticketId : undefined]));

describe('a badge is told when its ticket is taken from it', () => {
  it('reassigned to someone else, returned, merged: the badge it was taken from hears each, with the reason', async () => {
    const [a, b] = [await workerWithBadge(), await workerWithBadge()];
    const [badgeA, badgeB] = [await badgeOnline(a), await badgeOnline(b)];
    const first = await report();
    await act(first.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(first.id, 'reassign', { unitId: 'sanitation', assigneeId: b.staffId });
    // B gives it back: the dispatchers decide again.
    await act(first.id, 'return', { reason: 'Not our street' }, await gw.tenant.token(b.staffId, 'worker', { unitId: 'sanitation' }));
    const second = await report();
    const target = await report();
    await act(second.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(second.id, 'merge', { into: target.id });
    await expect
      .poll(() => told(badgeA.received), { timeout: 60_000 })
      .toEqual([
        ['assignment', first.id],
        ['withdrawal', first.id, 'reassigned'],
        ['assignment', second.id],
        ['withdrawal', second.id, 'merged'],
      ]);
    await expect
      .poll(() => told(badgeB.received), { timeout: 60_000 })
      .toEqual([
        ['assignment', first.id],
        ['withdrawal', first.id, 'returned'],
      ]);
    const withdrawal = badgeA.received[1]!;
    expect(withdrawal).toEqual({ type: 'withdrawal', ticketId: first.id, number: first.number, reason: 'reassigned', commandId: expect.any(String) });
    // Confirmed (a clean session's command is confirmed once written), nothing waits.
    expect(await waiting(a.deviceId)).toEqual([]);
  });

  it('a reassignment that keeps the worker (a new priority) withdraws nothing, nor one from the unit alone to a worker', async () => {
    const [a] = [await workerWithBadge()];
    const badge = await badgeOnline(a);
    const ticket = await report();
    await act(ticket.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(ticket.id, 'reassign', { unitId: 'sanitation', assigneeId: a.staffId, priority: 'urgent' });
    // To the unit with nobody named: the worker no longer has it.
    await act(ticket.id, 'reassign', { unitId: 'sanitation' });
    // From the unit alone to the worker again: nobody had it, nobody is told it went.
    await act(ticket.id, 'reassign', { unitId: 'sanitation', assigneeId: a.staffId });
    await expect
      .poll(() => told(badge.received), { timeout: 60_000 })
      .toEqual([
        ['assignment', ticket.id],
        ['assignment', ticket.id],
        ['withdrawal', ticket.id, 'reassigned'],
        ['assignment', ticket.id],
      ]);
    expect(badge.received[1]).toMatchObject({ type: 'assignment', priority: 'urgent' });
  });

  it('a badge that was away is sent only the latest word on each ticket', async () => {
    const [a, b] = [await workerWithBadge(), await workerWithBadge()];
    const taken = await report();
    const givenBack = await report();
    const kept = await report();
    // All while A's badge is off: one ticket given and taken away, one given, taken and given
    // back, one given.
    await act(taken.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(taken.id, 'reassign', { unitId: 'sanitation', assigneeId: b.staffId });
    await act(givenBack.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(givenBack.id, 'reassign', { unitId: 'sanitation', assigneeId: b.staffId });
    await act(givenBack.id, 'reassign', { unitId: 'sanitation', assigneeId: a.staffId });
    await act(kept.id, 'dispatch', { unitId: 'sanitation', assigneeId: a.staffId });
    expect((await waiting(a.deviceId)).map((c) => [c.type, c.ticketId])).toEqual([
      ['withdrawal', taken.id],
      ['assignment', givenBack.id],
      ['assignment', kept.id],
    ]);
    const badge = await badgeOnline(a);
    await expect
      .poll(() => told(badge.received), { timeout: 60_000 })
      .toEqual([
        ['withdrawal', taken.id, 'reassigned'],
        ['assignment', givenBack.id],
        ['assignment', kept.id],
      ]);
    // B's badge, never on: the ticket it holds now, and the withdrawal of the one it lost.
    expect((await waiting(b.deviceId)).map((c) => [c.type, c.ticketId])).toEqual([
      ['assignment', taken.id],
      ['withdrawal', givenBack.id],
    ]);
  });
});

describe('a badge is told when its job comes back for rework', () => {
  it("hears the ticket again with the supervisor's note when its verification fails; a badge that was away only that", async () => {
    const [a, b] = [await workerWithBadge(), await workerWithBadge()];
    const badgeA = await badgeOnline(a);
    const [first, second] = [await report(), await report()];
    // B's badge stays off: it gets the latest word on its ticket when it comes back.
    await sendBackForRework(gw, first.id, { staffId: a.staffId, unitId: 'sanitation' }, 'The bags beside the bin are still there');
    await sendBackForRework(gw, second.id, { staffId: b.staffId, unitId: 'sanitation' }, 'Still overflowing');
    await expect
      .poll(() => told(badgeA.received), { timeout: 60_000 })
      .toEqual([
        ['assignment', first.id],
        ['rework', first.id],
      ]);
    expect(badgeA.received[1]).toEqual({
      type: 'rework',
      ticketId: first.id,
      number: first.number,
      category: BIN_REPORT.category,
      description: BIN_REPORT.description,
      location: { lat: BIN_REPORT.location.lat, lon: BIN_REPORT.location.lon, address: BIN_REPORT.location.address },
      priority: 'normal',
      resolveBy: expect.any(String),
      note: 'The bags beside the bin are still there',
      commandId: expect.any(String),
    });
    expect((await waiting(b.deviceId)).map((c) => [c.type, c.ticketId])).toEqual([['rework', second.id]]);
    const badgeB = await badgeOnline(b);
    await expect.poll(() => told(badgeB.received), { timeout: 60_000 }).toEqual([['rework', second.id]]);
    expect(badgeB.received[0]).toMatchObject({ note: 'Still overflowing' });
  });
});
