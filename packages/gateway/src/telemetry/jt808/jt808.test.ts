import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { inject, BIN_REPORT, sendBackForRework, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { tenantKeys } from '../../redis/keys.js';
import { decodeStoredPosition } from '../../store/stored-position.js';

let gw: TestGateway;
let port: number;
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  port = gw.telemetry!.jt808Port!;
});
afterAll(async () => {
  for (const t of terminals) t.close();
  await gw?.close();
});

let numbers = 13800000000;
async function registerDevice(body: Record<string, unknown> = {}) {
  const terminalId = String(++numbers);
  const res = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: { kind: 'vehicle', name: `Truck ${terminalId}`, protocol: 'jt808', terminalId, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { device: res.body.device as { id: string; terminalId: string }, terminalId };
}

async function onlineTerminal(version: 2013 | 2019 = 2013, body: Record<string, unknown> = {}) {
  const { device, terminalId } = await registerDevice(body);
  const terminal = new Jt808Terminal(terminalId, version);
  terminals.push(terminal);
  await terminal.connect(port);
  const registered = await terminal.register();
  expect(registered.result).toBe(0);
  expect(await terminal.authenticate(registered.code!)).toBe(0);
  return { device, terminal, code: registered.code! };
}

const state = (deviceId: string) => gw.redis.client.hgetall(tenantKeys(gw.tenant.id).deviceState(deviceId));
const trackLength = (deviceId: string) => gw.redis.client.xlen(tenantKeys(gw.tenant.id).track(deviceId));
const counters = async () => (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;

describe('JT/T 808 terminals', () => {
  for (const version of [2013, 2019] as const) {
    it(`a ${version} terminal registers, authenticates and reports; each position is answered once stored, a resent one not stored twice`, async () => {
      const { device, terminal } = await onlineTerminal(version);
      const time = Date.now() - 5000;
      const serial = terminal.report({ lat: 23.1291, lon: 113.2644, time, speedKmh: 36.5, course: 90, mileageKm: 1234.5, satellites: 9 });
      expect(await terminal.answerTo(serial)).toBe(0);
      // Answered means stored: no waiting.
      const stored = await state(device.id);
      expect(Number(stored.fixTime)).toBe(Math.floor(time / 1000) * 1000);
      expect(stored.online).toBe('1');
      expect(decodeStoredPosition(stored.position!)).toMatchObject({
        lat: 23.1291,
        lon: 113.2644,
        speedKmh: 36.5,
        course: 90,
        source: 'jt808',
        extra: { mileageKm: 1234.5, satellites: 9 },
      });
      // The terminal did not hear the answer and sends the same report again.
      const again = terminal.report({ lat: 23.1291, lon: 113.2644, time, speedKmh: 36.5, course: 90 });
      expect(await terminal.answerTo(again)).toBe(0);
      expect(await trackLength(device.id)).toBe(1);
      // Blind-area data: a batch of older fixes, stored, answered, the live point left where it is.
      const batch = terminal.batch([1, 2, 3].map((i) => ({ lat: 23.12 + i / 1000, lon: 113.26, time: time - i * 60_000 })));
      expect(await terminal.answerTo(batch)).toBe(0);
      expect(await trackLength(device.id)).toBe(4);
      expect(decodeStoredPosition((await state(device.id)).position!).lat).toBe(23.1291);
      // Heartbeat and time query.
      expect(await terminal.answerTo(terminal.send(0x0002))).toBe(0);
      terminal.send(0x0004);
      const clock = await terminal.next((m) => m.id === 0x8004);
      expect(clock.body).toHaveLength(6);
      expect(clock.version).toBe(version);
      const live = await gw.redis.client.geopos(tenantKeys(gw.tenant.id).live('vehicle'), device.id);
      expect(Number(live[0]![1])).toBeCloseTo(23.1291, 4);
    });
  }

  it('refuses unknown terminals, repeated registrations, wrong codes and reports before authentication', async () => {
    const stranger = new Jt808Terminal('19999999999');
    terminals.push(stranger);
    await stranger.connect(port);
    expect((await stranger.register()).result).toBe(4);
    const { terminalId, device } = await registerDevice();
    const terminal = new Jt808Terminal(terminalId);
    terminals.push(terminal);
    await terminal.connect(port);
    // Reports before authenticating are refused with result 1, so the terminal authenticates again.
    expect(await terminal.answerTo(terminal.report({ lat: 23.1, lon: 113.2, time: Date.now() }))).toBe(1);
    const { code } = await terminal.register();
    // Knowing the number is not enough: a second registration gets no code.
    expect((await terminal.register()).result).toBe(3);
    expect(await terminal.authenticate('cl_dk_not-the-code')).toBe(1);
    // Another device's code does not open this terminal.
    const other = await onlineTerminal();
    expect(await terminal.authenticate(other.code)).toBe(1);
    expect(await terminal.authenticate(code!)).toBe(0);
    expect(await trackLength(device.id)).toBe(0);
    // Rotating the credential over HTTP lets a terminal that lost its code register afresh.
    const rotated = await inject(gw, 'POST', `/v1/devices/${device.id}/credentials`, { auth: gw.tenant.secretKey });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect((await terminal.register()).result).toBe(0);
  });

  it('bad frames, bad checksums, unknown and oversized messages are refused and counted; the terminal goes on', async () => {
    const { device, terminal } = await onlineTerminal();
    const before = await counters();
    // A wrong checksum: no answer, counted.
    const good = terminal.message(0x0200, Buffer.alloc(28)).bytes;
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 2] = corrupt[corrupt.length - 2]! ^ 0x55;
    terminal.write(corrupt);
    // Not JT/T 808 at all, and a frame longer than any JT/T 808 frame.
    terminal.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    terminal.write(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(5000, 0x31), Buffer.from([0x7e])]));
    // An unknown message id: "not supported".
    expect(await terminal.answerTo(terminal.send(0x0f42, Buffer.from([1, 2, 3])))).toBe(3);
    // A report whose time is not a time: "message error".
    const badTime = Buffer.alloc(28);
    badTime.fill(0x99, 22, 28);
    expect(await terminal.answerTo(terminal.send(0x0200, badTime))).toBe(2);
    // A sub-packaged message larger than JT808_MAX_MESSAGE_BYTES is refused.
    const parts = Math.ceil(gw.config.jt808MaxMessageBytes / 1000) + 2;
    const serials: number[] = [];
    for (let i = 1; i <= parts; i++) serials.push(terminal.send(0x0704, Buffer.alloc(1000), { total: parts, index: i }));
    // The part that goes over the limit and every part after it are answered "failure".
    expect(await terminal.answerTo(serials[parts - 1]!)).toBe(1);
    expect(await terminal.answerTo(serials[parts - 2]!)).toBe(1);
    // And the terminal is still served.
    expect(await terminal.answerTo(terminal.report({ lat: 23.13, lon: 113.27, time: Date.now() - 1000 }))).toBe(0);
    expect(await trackLength(device.id)).toBe(1);
    const after = await counters();
    // The wrong checksum and the overlong frame; bytes outside any pair of flags are not a frame at all.
    expect((after.rejected.bad_frame ?? 0) - (before.rejected.bad_frame ?? 0)).toBe(2);
    expect((after.rejected.schema ?? 0) - (before.rejected.schema ?? 0)).toBe(1);
    expect((after.rejected.too_large ?? 0) - (before.rejected.too_large ?? 0)).toBe(1);
    expect((after.ignored.unused_type ?? 0) - (before.ignored.unused_type ?? 0)).toBe(1);
  });

  it('puts a sub-packaged batch together and answers each part once it is stored', async () => {
    const { device, terminal } = await onlineTerminal(2019);
    const time = Date.now() - 600_000;
    const word = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
    const { locationBody } = await import('@civicloop/test-support/jt808-terminal.js');
    const items = [0, 1, 2, 3].map((i) => locationBody({ lat: 23.1 + i / 100, lon: 113.3, time: time + i * 1000 }));
    const body = Buffer.concat([word(items.length), Buffer.from([1]), ...items.flatMap((item) => [word(item.length), item])]);
    const half = Math.ceil(body.length / 2);
    const first = terminal.send(0x0704, body.subarray(0, half), { total: 2, index: 1 });
    const second = terminal.send(0x0704, body.subarray(half), { total: 2, index: 2 });
    expect(await terminal.answerTo(first)).toBe(0);
    expect(await terminal.answerTo(second)).toBe(0);
    expect(await trackLength(device.id)).toBe(4);
  });

  it('an assignment reaches the screen of a vehicle that takes no questions as a 0x8300 text, kept until the terminal confirms it', async () => {
    const { device, terminal, code } = await onlineTerminal(2013, { staffId: 'w-1' });
    const dispatcher = await gw.tenant.token('d-1', 'dispatcher');
    const ticket = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, location: { ...BIN_REPORT.location, address: '天河路 385 号' } },
    });
    expect(ticket.status).toBe(201);
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
      auth: dispatcher,
      body: { unitId: 'sanitation', assigneeId: 'w-1' },
    });
    expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
    // Asked first as a question (0x8302), which this terminal does not support: then as text.
    const question = await terminal.next((m) => m.id === 0x8302);
    terminal.send(0x0001, Buffer.from([(question.serial >> 8) & 0xff, question.serial & 0xff, 0x83, 0x02, 3]));
    const text = await terminal.next((m) => m.id === 0x8300);
    // flag: display + TTS; then GBK text.
    expect(text.body[0]! & 0x0c).toBe(0x0c);
    const shown = iconv.decode(text.body.subarray(1), 'gbk');
    expect(shown).toContain(ticket.body.number);
    expect(shown).toContain('天河路 385 号');
    const outbox = tenantKeys(gw.tenant.id).jt808Outbox(device.id);
    expect(await gw.redis.client.llen(outbox)).toBe(1);
    // Away and back before confirming: the text comes again; confirmed, it is gone.
    terminal.close();
    await expect.poll(async () => (await state(device.id)).online).toBe('0');
    await terminal.connect(port);
    expect(await terminal.authenticate(code)).toBe(0);
    // Remembered: asked no question again, the text comes at once.
    const again = await terminal.next((m) => m.id === 0x8300 || m.id === 0x8302);
    expect(again.id).toBe(0x8300);
    expect(iconv.decode(again.body.subarray(1), 'gbk')).toBe(shown);
    const confirm = Buffer.concat([Buffer.from([(again.serial >> 8) & 0xff, again.serial & 0xff, 0x83, 0x00, 0])]);
    terminal.send(0x0001, confirm);
    await expect.poll(() => gw.redis.client.llen(outbox)).toBe(0);
  });

  it('a ticket taken from the driver is withdrawn on its screen, as a text saying why', async () => {
    const { terminal } = await onlineTerminal(2019, { staffId: 'w-2' });
    const dispatcher = await gw.tenant.token('d-1', 'dispatcher');
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, priority: 'urgent' } });
    expect(ticket.status).toBe(201);
    for (const [command, assigneeId] of [
      ['dispatch', 'w-2'],
      ['reassign', 'w-1'],
    ]) {
      const res = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/${command}`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const assignment = await terminal.next((m) => m.id === 0x8302);
    terminal.send(0x0001, Buffer.from([(assignment.serial >> 8) & 0xff, assignment.serial & 0xff, 0x83, 0x02, 0]));
    const withdrawal = await terminal.next((m) => m.id === 0x8300);
    // 2019: flag (display + TTS, not urgent, whatever the ticket's priority), text type 1, GBK text.
    expect(withdrawal.body[0]).toBe(0x0c);
    expect(iconv.decode(withdrawal.body.subarray(2), 'gbk')).toBe(`撤单 ${ticket.body.number} 已改派,无需前往`);
  });

  it("a ticket whose verification fails is on the driver's screen again, as a text with what the supervisor found (返工)", async () => {
    const { terminal } = await onlineTerminal(2013, { staffId: 'w-2' });
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
    await sendBackForRework(gw, ticket.body.id, { staffId: 'w-2', unitId: 'sanitation' }, '桶边仍有垃圾');
    // The assignment was asked first; the rework, about the same ticket, took its place in the outbox.
    const assignment = await terminal.next((m) => m.id === 0x8302);
    terminal.send(0x0001, Buffer.from([(assignment.serial >> 8) & 0xff, assignment.serial & 0xff, 0x83, 0x02, 0]));
    const rework = await terminal.next((m) => m.id === 0x8300);
    // 2013: flag (display + TTS), GBK text: no question, there is nothing to accept in rework.
    expect(rework.body[0]).toBe(0x0c);
    expect(iconv.decode(rework.body.subarray(1), 'gbk')).toMatch(
      new RegExp(`^返工 ${ticket.body.number} 核查未通过:桶边仍有垃圾 地址:Tianhe Rd bus stop 限时:`),
    );
  });

  it('answers a location query (0x8201) with the position the terminal sends back (0x0201)', async () => {
    const { device, terminal } = await onlineTerminal(2019);
    const asked = inject(gw, 'POST', `/v1/devices/${device.id}/locate`, { auth: gw.tenant.secretKey });
    const query = await terminal.next((m) => m.id === 0x8201);
    const { locationBody } = await import('@civicloop/test-support/jt808-terminal.js');
    const time = Date.now() - 2000;
    terminal.send(0x0201, Buffer.concat([Buffer.from([(query.serial >> 8) & 0xff, query.serial & 0xff]), locationBody({ lat: 23.14, lon: 113.31, time })]));
    const answer = await asked;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ lat: 23.14, lon: 113.31, fixTime: new Date(Math.floor(time / 1000) * 1000).toISOString() });
    expect(await trackLength(device.id)).toBe(1);
    // A terminal that is not connected cannot be asked.
    terminal.close();
    await expect
      .poll(async () => (await inject(gw, 'POST', `/v1/devices/${device.id}/locate`, { auth: gw.tenant.secretKey })).body.error?.code)
      .toBe('CL_ERR_DEVICE_UNREACHABLE');
  });

  it('an SOS alarm bit opens one urgent ticket while it stays set; other alarms are device alerts on the stream', async () => {
    const { device, terminal } = await onlineTerminal();
    const base = Date.now() - 60_000;
    for (const [i, alarm] of [0, 1, 1, 0b11, 0].entries()) {
      expect(
        await terminal.answerTo(terminal.report({ lat: 23.15, lon: 113.32, time: base + i * 1000, alarm: alarm === 0b11 ? 0b11 : alarm === 1 ? 1 : 0 })),
      ).toBe(0);
    }
    // overspeed with bit 1, SOS with bit 0 (set in reports 2-4: one ticket).
    const sosTickets = (await inject(gw, 'GET', '/v1/tickets?channel=device', { auth: gw.tenant.secretKey })).body.items.filter(
      (t: { description: string }) => t.description.includes(device.id) || t.description.includes('Truck'),
    );
    expect(sosTickets.filter((t: { priority: string }) => t.priority === 'urgent')).toHaveLength(1);
    const entries = await gw.redis.client.xrange(tenantKeys(gw.tenant.id).events, '-', '+');
    const alerts = entries.flatMap(([, fields]) => (fields[0] === 'a' ? [JSON.parse(fields[1]!)] : [])).filter((a) => a.deviceId === device.id);
    expect(alerts.map((a) => (a.type === 'alarm' ? a.alarm : a.type))).toEqual(['sos', 'overspeed']);
    expect(alerts[0]).toMatchObject({ ticketId: sosTickets[0].id, lat: 23.15, lon: 113.32 });
  });

  it('an alarm that clears and comes back is raised again; one that another terminal keeps set does not stop it', async () => {
    const [first, second] = [await onlineTerminal(), await onlineTerminal(2019)];
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    // The second terminal's overspeed stays set throughout, while the first's clears and returns.
    const sequence: [typeof first, number][] = [
      [second, 0b10],
      [first, 0b10],
      [first, 0],
      [second, 0b10],
      [first, 0],
      [first, 0b10],
    ];
    for (const [i, [terminal, alarm]] of sequence.entries()) {
      expect(await terminal.terminal.answerTo(terminal.terminal.report({ lat: 23.15, lon: 113.32, time: base + i * 1000, alarm }))).toBe(0);
    }
    const entries = await gw.redis.client.xrange(tenantKeys(gw.tenant.id).events, '-', '+');
    const alerts = entries.flatMap(([, fields]) => (fields[0] === 'a' ? [JSON.parse(fields[1]!)] : []));
    const of = (deviceId: string) => alerts.filter((a) => a.deviceId === deviceId).map((a) => [a.alarm, Date.parse(a.at) - base]);
    expect(of(first.device.id)).toEqual([
      ['overspeed', 1000],
      ['overspeed', 5000],
    ]);
    expect(of(second.device.id)).toEqual([['overspeed', 0]]);
  });

  it(
    'reports sent without waiting are stored together, each answered; an alarm set ' +
      'in all of them is raised once; a heartbeat after them is answered after them',
    async () => {
      const { device, terminal } = await onlineTerminal(2019);
      const base = Math.floor(Date.now() / 1000) * 1000 - 120_000;
      // 60 reports in one go (more than a connection stores at once), SOS set from the 10th on.
      const serials = Array.from({ length: 60 }, (_, i) =>
        terminal.report({ lat: 23.16 + i * 1e-4, lon: 113.33, time: base + i * 1000, alarm: i >= 10 ? 1 : 0 }),
      );
      const heartbeat = terminal.send(0x0002);
      expect(await terminal.answerTo(heartbeat)).toBe(0);
      // Every report's answer came before the heartbeat's.
      const before = terminal.received.filter((m) => m.id === 0x8001).map((m) => m.body.readUInt16BE(0));
      expect(new Set(before)).toEqual(new Set(serials));
      expect(await Promise.all(serials.map((s) => terminal.answerTo(s)))).toEqual(serials.map(() => 0));
      expect(await trackLength(device.id)).toBe(60);
      const entries = await gw.redis.client.xrange(tenantKeys(gw.tenant.id).events, '-', '+');
      const alerts = entries.flatMap(([, fields]) => (fields[0] === 'a' ? [JSON.parse(fields[1]!)] : [])).filter((a) => a.deviceId === device.id);
      expect(alerts.map((a) => a.type)).toEqual(['sos']);
      expect(Date.parse(alerts[0].at)).toBe(base + 10_000);
    },
  );
});
