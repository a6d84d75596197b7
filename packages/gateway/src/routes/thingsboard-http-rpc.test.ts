import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BadgeCommand } from '@civicloop/model';
import { BIN_REPORT, inject, sendBackForRework, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { SAMPLE_ASSIGNMENT } from '@civicloop/test-support/device-gateway-harness.js';
import { curl as curlTo, curlHeld } from '@civicloop/test-support/thingsboard-http.js';
import { DeviceOutbox } from '../store/device-outbox.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
});
afterAll(async () => {
  await gw?.close();
});

async function firmware(gateway = gw, driver?: string) {
  const res = await inject(gateway, 'POST', '/v1/devices', {
    auth: gateway.tenant.secretKey,
    body: { kind: 'vehicle', name: 'DTU on truck 9', ...(driver ? { staffId: driver } : {}) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const { device, credential } = res.body as { device: { id: string }; credential: { password: string } };
  return { deviceId: device.id, token: credential.password };
}

const curl = (method: 'GET' | 'POST', path: string, json?: string) => curlTo(method, `${gw.url}${path}`, json);
const holdPoll = (path: string, gateway = gw) => curlHeld('GET', `${gateway.url}${path}`);

const heldPolls = (gateway = gw) => gateway.telemetry!.commandPolls.size;
const give = async (deviceId: string, command: BadgeCommand, gateway = gw) => {
  const device = await gateway.services.devices.get(gateway.tenant.id, deviceId);
  await gateway.telemetry!.sendCommand(gateway.tenant.id, device!, command);
};
const waiting = async (deviceId: string, gateway = gw) => {
  const device = await gateway.services.devices.get(gateway.tenant.id, deviceId);
  return new DeviceOutbox(gateway.redis.client).waiting(gateway.tenant.id, device!);
};

describe("ThingsBoard's HTTP RPC", () => {
  it('answers a held long poll with a command given while it waits, and leaves the outbox empty once written', async () => {
    const { deviceId, token } = await firmware();
    const poll = holdPoll(`/api/v1/${token}/rpc?timeout=20000`);
    await vi.waitFor(() => expect(heldPolls()).toBe(1), { timeout: 5000 });
    await give(deviceId, { type: 'report_location' });
    const answered = await poll.answer;
    expect(answered.status).toBe(200);
    const rpc = JSON.parse(answered.body) as { id: number; method: string; params: { commandId: string } };
    expect(rpc).toEqual({ id: expect.any(Number), method: 'reportLocation', params: { commandId: expect.any(String) } });
    expect(Number.isInteger(rpc.id) && rpc.id > 0).toBe(true);
    await vi.waitFor(async () => expect(await waiting(deviceId)).toEqual([]), { timeout: 5000 });
    expect(heldPolls()).toBe(0);

    // The firmware's reply is taken and set aside, as on MQTT's rpc/response topic.
    expect(await curl('POST', `/api/v1/${token}/rpc/${rpc.id}`, JSON.stringify({ result: 'ok' }))).toEqual({
      status: 200,
      telemetry: 'ignored; reason=unused_topic',
      body: '',
    });
  });

  it('is asked where it is by POST /v1/devices/{id}/locate, and answers by posting its position', async () => {
    const { deviceId, token } = await firmware();
    const poll = holdPoll(`/api/v1/${token}/rpc?timeout=20000`);
    await vi.waitFor(() => expect(heldPolls()).toBe(1), { timeout: 5000 });
    // A poll is not a message: firmware that has posted nothing is not online, and is not asked.
    const unheard = await inject(gw, 'POST', `/v1/devices/${deviceId}/locate`, { auth: gw.tenant.secretKey });
    expect(unheard.body.error?.code).toBe('CL_ERR_DEVICE_UNREACHABLE');
    expect(await waiting(deviceId)).toEqual([]);
    expect((await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ latitude: 23.12, longitude: 113.26 }))).status).toBe(200);
    const asked = inject(gw, 'POST', `/v1/devices/${deviceId}/locate`, { auth: gw.tenant.secretKey });
    const rpc = JSON.parse((await poll.answer).body) as { id: number; method: string };
    expect(rpc.method).toBe('reportLocation');
    // The firmware does what the request asks: it posts a fresh fix, then replies as ThingsBoard's example does.
    expect((await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ latitude: 23.1234, longitude: 113.2656, speed: 12 }))).status).toBe(200);
    expect((await curl('POST', `/api/v1/${token}/rpc/${rpc.id}`, JSON.stringify({ result: 'ok' }))).status).toBe(200);
    const located = await asked;
    expect(located.status, JSON.stringify(located.body)).toBe(200);
    expect(located.body).toMatchObject({ lat: 23.1234, lon: 113.2656, speedKmh: 12 });
  });

  it('hands what waited one command per poll, oldest first, and ends a poll with nothing for it 408', async () => {
    const { deviceId, token } = await firmware();
    await give(deviceId, SAMPLE_ASSIGNMENT);
    await give(deviceId, { type: 'report_location' });
    const first = await curl('GET', `/api/v1/${token}/rpc?timeout=20000`);
    const second = await curl('GET', `/api/v1/${token}/rpc`);
    const [assignment, locate] = [JSON.parse(first.body), JSON.parse(second.body)] as { id: number; method: string; params: Record<string, unknown> }[];
    const { type: _type, ...fields } = SAMPLE_ASSIGNMENT;
    expect(assignment).toEqual({ id: expect.any(Number), method: 'assignment', params: { ...fields, commandId: expect.any(String) } });
    expect(locate).toMatchObject({ method: 'reportLocation' });
    expect(locate!.id).toBeGreaterThan(assignment!.id);
    await vi.waitFor(async () => expect(await waiting(deviceId)).toEqual([]), { timeout: 5000 });

    expect(await curl('GET', `/api/v1/${token}/rpc?timeout=300`)).toEqual({ status: 408, telemetry: undefined, body: '' });
    // No attribute ever changes here: the attribute-update poll runs out the same way.
    expect(await curl('GET', `/api/v1/${token}/attributes/updates?timeout=300`)).toEqual({ status: 408, telemetry: undefined, body: '' });
    expect(heldPolls()).toBe(0);
  });

  it("hears that its driver's ticket was given back, after the assignment, as a withdrawal request", async () => {
    const { token } = await firmware(gw, 'w-3');
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
    const act = async (command: string, body: Record<string, unknown>) => {
      const res = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/${command}`, { auth: gw.tenant.secretKey, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    const poll = async () => JSON.parse((await curl('GET', `/api/v1/${token}/rpc?timeout=20000`)).body) as { method: string; params: Record<string, unknown> };
    await act('dispatch', { unitId: 'municipal', assigneeId: 'w-3' });
    expect(await poll()).toMatchObject({ method: 'assignment', params: { ticketId: ticket.body.id } });
    await act('return', { reason: 'A private yard, not the street' });
    expect(await poll()).toEqual({
      id: expect.any(Number),
      method: 'withdrawal',
      params: { ticketId: ticket.body.id, number: ticket.body.number, reason: 'returned', commandId: expect.any(String) },
    });
  });

  it("hears that its driver's ticket failed verification as a rework request, with the supervisor's note", async () => {
    const { token } = await firmware(gw, 'w-3');
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
    await sendBackForRework(gw, ticket.body.id, { staffId: 'w-3', unitId: 'municipal' }, 'Still overflowing');
    // The rework took the place of the assignment waiting about the same ticket: one request.
    const rpc = JSON.parse((await curl('GET', `/api/v1/${token}/rpc?timeout=20000`)).body) as { method: string; params: Record<string, unknown> };
    expect(rpc).toMatchObject({ method: 'rework', params: { ticketId: ticket.body.id, number: ticket.body.number, note: 'Still overflowing' } });
  });

  it('hears a dispatcher confirm its SOS as an alarmConfirmation request', async () => {
    const { deviceId, token } = await firmware();
    const confirmed = await inject(gw, 'POST', `/v1/devices/${deviceId}/alarms/confirm`, { auth: gw.tenant.secretKey, body: { alarms: ['sos'] } });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(202);
    expect(JSON.parse((await curl('GET', `/api/v1/${token}/rpc?timeout=20000`)).body)).toEqual({
      id: expect.any(Number),
      method: 'alarmConfirmation',
      params: { alarms: ['sos'], commandId: confirmed.body.commandId },
    });
  });

  it('keeps the command of a poll whose firmware went away, for its next poll', async () => {
    const { deviceId, token } = await firmware();
    const poll = holdPoll(`/api/v1/${token}/rpc?timeout=20000`);
    await vi.waitFor(() => expect(heldPolls()).toBe(1), { timeout: 5000 });
    poll.kill();
    await poll.answer;
    await vi.waitFor(() => expect(heldPolls()).toBe(0), { timeout: 5000 });
    await give(deviceId, { type: 'report_location' });
    expect(await waiting(deviceId)).toHaveLength(1);
    expect(JSON.parse((await curl('GET', `/api/v1/${token}/rpc?timeout=20000`)).body)).toMatchObject({ method: 'reportLocation' });
  });

  it("gives commands to a device's newest poll only, and lets an older one run out its time", async () => {
    const { deviceId, token } = await firmware();
    // The attribute-update poll, held beside them as ThingsBoard's SDK holds both, is its own kind.
    const updates = holdPoll(`/api/v1/${token}/attributes/updates?timeout=300000`);
    const older = holdPoll(`/api/v1/${token}/rpc?timeout=300000`);
    let olderAnswered = false;
    void older.answer.then(() => (olderAnswered = true));
    await vi.waitFor(() => expect(heldPolls()).toBe(2), { timeout: 5000 });
    // As firmware on a cellular link polls again when its connection went quiet: the older
    // connection may be dead without the gateway knowing, and a command written there is lost.
    const newer = holdPoll(`/api/v1/${token}/rpc?timeout=300000`);
    await vi.waitFor(() => expect(heldPolls()).toBe(3), { timeout: 5000 });
    await give(deviceId, { type: 'report_location' });
    expect(JSON.parse((await newer.answer).body)).toMatchObject({ method: 'reportLocation' });
    // The older poll is neither given the command nor ended early, so two units sharing a token
    // do not end each other's polls back and forth; a command given now waits for a newer poll.
    await give(deviceId, SAMPLE_ASSIGNMENT);
    await vi.waitFor(() => expect(heldPolls()).toBe(2), { timeout: 5000 });
    expect(await waiting(deviceId)).toHaveLength(1);
    expect(olderAnswered).toBe(false);
    expect(JSON.parse((await curl('GET', `/api/v1/${token}/rpc?timeout=20000`)).body)).toMatchObject({ method: 'assignment' });
    for (const poll of [older, updates]) poll.kill();
    await Promise.all([older.answer, updates.answer]);
    await vi.waitFor(() => expect(heldPolls()).toBe(0), { timeout: 5000 });
  });

  it('refuses a timeout that is not a number and a wrong token, and takes a reply only to a numbered request', async () => {
    const { token } = await firmware();
    const bad = await curl('GET', `/api/v1/${token}/rpc?timeout=soon`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('CL_ERR_VALIDATION');
    const wrong = await curl('GET', '/api/v1/cl_dk_not-a-secret/rpc?timeout=20000');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.code).toBe('CL_ERR_INVALID_KEY');
    expect((await curl('POST', `/api/v1/${token}/rpc/first`, '{}')).status).toBe(400);
    // Device-side RPC is not served: the firmware hears so at once.
    expect((await curl('POST', `/api/v1/${token}/rpc`, JSON.stringify({ method: 'getCurrentTime', params: {} }))).status).toBe(404);
  });

  it('ends the polls of a device that is disabled, and refuses its next one 403', async () => {
    const { deviceId, token } = await firmware();
    // A replaced poll (below, the first) ends too: it is the device's, whatever its connection.
    const polls = [holdPoll(`/api/v1/${token}/rpc?timeout=300000`), holdPoll(`/api/v1/${token}/attributes/updates?timeout=300000`)];
    await vi.waitFor(() => expect(heldPolls()).toBe(2), { timeout: 5000 });
    polls.push(holdPoll(`/api/v1/${token}/rpc?timeout=300000`));
    await vi.waitFor(() => expect(heldPolls()).toBe(3), { timeout: 5000 });
    expect((await inject(gw, 'PATCH', `/v1/devices/${deviceId}`, { auth: gw.tenant.secretKey, body: { disabled: true } })).status).toBe(200);
    for (const poll of polls) expect(await poll.answer).toMatchObject({ status: 408, body: '' });
    const refused = await curl('GET', `/api/v1/${token}/rpc?timeout=20000`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe('CL_ERR_FORBIDDEN');
  });

  it('ends held polls 408 when the gateway shuts down, instead of waiting out their timeouts', async () => {
    const closing = await startTestGateway({}, { telemetry: true });
    const { token } = await firmware(closing);
    const poll = holdPoll(`/api/v1/${token}/rpc?timeout=300000`, closing);
    await vi.waitFor(() => expect(heldPolls(closing)).toBe(1), { timeout: 5000 });
    await closing.close();
    expect(await poll.answer).toMatchObject({ status: 408, body: '' });
  });
});
