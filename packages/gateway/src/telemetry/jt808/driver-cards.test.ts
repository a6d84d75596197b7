import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { inject, BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';
import { tenantKeys } from '../../redis/keys.js';

// Sanitation trucks whose drivers put their qualification IC card (从业资格证) into the truck's
// JT/T 808 terminal when they take the wheel (0x0702): the card says who drives which truck.
let gw: TestGateway;
const terminals: Jt808Terminal[] = [];
const LI = { id: 'drv-li', name: '李师傅', code: '440106198801011234' };
const CHEN = { id: 'drv-chen', name: '陈师傅', code: '440106199002022345' };

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  for (const driver of [LI, CHEN]) {
    const res = await inject(gw, 'POST', '/v1/staff', {
      auth: gw.tenant.secretKey,
      body: { id: driver.id, name: driver.name, role: 'worker', unitId: 'sanitation', qualificationCode: driver.code },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  for (const t of terminals) t.close();
  await gw?.close();
});

let numbers = 13900000000;
/** A truck registered with nobody as its driver, its terminal online. */
const truck = () => onlineJt808Vehicle(gw, String(++numbers), terminals);

const get = async (path: string) => (await inject(gw, 'GET', path, { auth: gw.tenant.secretKey })).body;
const driverOf = async (deviceId: string) => ({
  staffId: (await get(`/v1/devices/${deviceId}`)).staffId,
  driver: (await get(`/v1/devices/${deviceId}/state`)).driver,
});
const trucksOf = async (staffId: string) => ((await get(`/v1/devices?staffId=${staffId}`)).items as { id: string }[]).map((d) => d.id);
/** The attendance of the day (Asia/Shanghai, the test tenant's) a time falls on. */
const attendance = (ms: number) => get(`/v1/attendance?day=${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10)}`);
/** Whole seconds: the card's time is BCD to the second. */
const at = (secondsAgo: number) => Math.floor(Date.now() / 1000 - secondsAgo) * 1000;

describe("drivers' IC cards in JT/T 808 terminals", () => {
  it("a card put in makes the truck its driver's, so their assignment reaches its screen; taken out, the truck is nobody's", async () => {
    const { deviceId, terminal } = await truck();
    const since = at(60);
    expect(await terminal.answerTo(terminal.driverCard({ status: 'in', time: since, ...LI }))).toBe(0);
    expect(await driverOf(deviceId)).toEqual({
      staffId: LI.id,
      driver: { staffId: LI.id, name: LI.name, qualificationCode: LI.code, since: new Date(since).toISOString() },
    });
    expect(await trucksOf(LI.id)).toEqual([deviceId]);
    // Checked in on the truck from the card's time; a copy of the same report changes nothing.
    expect(await terminal.answerTo(terminal.driverCard({ status: 'in', time: since, ...LI }))).toBe(0);
    const onDuty = { deviceId, staffId: LI.id, unitId: null, since: new Date(since).toISOString() };
    expect((await attendance(since)).onDuty).toContainEqual(onDuty);
    expect((await attendance(since)).shifts.filter((s: { deviceId: string }) => s.deviceId === deviceId)).toEqual([]);

    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
      auth: gw.tenant.secretKey,
      body: { unitId: 'sanitation', assigneeId: LI.id },
    });
    expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
    const question = await terminal.next((m) => m.id === 0x8302);
    expect(iconv.decode(question.body.subarray(2, 2 + question.body[1]!), 'gbk')).toContain(`派单 ${ticket.body.number}`);
    // An SOS from the truck now says who drives it: the connection knows its new driver.
    expect(await terminal.answerTo(terminal.report({ lat: 23.13, lon: 113.27, time: at(1), alarm: 1 }))).toBe(0);
    const sos = (await get('/v1/tickets?category=other.worker_sos&limit=50')).items as { description: string }[];
    expect(sos.map((t) => t.description)).toContainEqual(expect.stringContaining(`from vehicle Truck ${numbers} (driven by ${LI.id})`));

    const out = at(0);
    expect(await terminal.answerTo(terminal.driverCard({ status: 'out', time: out }))).toBe(0);
    expect(await driverOf(deviceId)).toEqual({ staffId: undefined, driver: null });
    expect(await trucksOf(LI.id)).toEqual([]);
    // The card out ends Li's shift on the truck.
    const after = await attendance(since);
    expect(after.onDuty).not.toContainEqual(onDuty);
    expect(after.shifts.filter((s: { deviceId: string }) => s.deviceId === deviceId)).toEqual([
      { deviceId, staffId: LI.id, start: new Date(since).toISOString(), end: new Date(out).toISOString(), minutes: 1 },
    ]);
  });

  it('follows a driver to another truck; a late copy, an unknown card, an unread card and a broken report each do only what they say', async () => {
    const [a, b] = [await truck(), await truck()];
    expect(await a.terminal.answerTo(a.terminal.driverCard({ status: 'in', time: at(600), ...LI }))).toBe(0);
    // Li moves to truck B without taking the card out of A; Chen takes A.
    expect(await b.terminal.answerTo(b.terminal.driverCard({ status: 'in', time: at(300), ...LI }))).toBe(0);
    expect(await a.terminal.answerTo(a.terminal.driverCard({ status: 'in', time: at(200), ...CHEN }))).toBe(0);
    expect([await trucksOf(LI.id), await trucksOf(CHEN.id)]).toEqual([[b.deviceId], [a.deviceId]]);

    // B resends a card-out older than Li's card in it (a lost answer): Li still drives B.
    expect(await b.terminal.answerTo(b.terminal.driverCard({ status: 'out', time: at(500) }))).toBe(0);
    expect((await driverOf(b.deviceId)).staffId).toBe(LI.id);
    // Li leaves B; then a late copy of the card going into B arrives: B stays nobody's.
    expect(await b.terminal.answerTo(b.terminal.driverCard({ status: 'out', time: at(250) }))).toBe(0);
    expect(await b.terminal.answerTo(b.terminal.driverCard({ status: 'in', time: at(300), ...LI }))).toBe(0);
    expect(await driverOf(b.deviceId)).toEqual({ staffId: undefined, driver: null });
    expect(await trucksOf(LI.id)).toEqual([]);

    // A card nobody on the staff has: the driver is shown by name, and the truck is nobody's.
    expect(await a.terminal.answerTo(a.terminal.driverCard({ status: 'in', time: at(100), name: '王师傅', code: '440106197703033456' }))).toBe(0);
    expect(await driverOf(a.deviceId)).toMatchObject({
      staffId: undefined,
      driver: { staffId: null, name: '王师傅', qualificationCode: '440106197703033456' },
    });
    expect(await trucksOf(CHEN.id)).toEqual([]);

    // A card the terminal could not read is answered and set aside; the driver on record stays.
    expect(await a.terminal.answerTo(a.terminal.driverCard({ status: 'unread', time: at(50), result: 2 }))).toBe(0);
    const state = await get(`/v1/devices/${a.deviceId}/state`);
    expect(state.ignored).toMatchObject({ lastReason: 'card_unread' });
    expect(state.driver).toMatchObject({ name: '王师傅' });
    // Not a 0x0702: answered "message error", counted as refused, nothing changed.
    expect(await a.terminal.answerTo(a.terminal.send(0x0702, Buffer.from([0x01, 0x26])))).toBe(2);
    expect((await get(`/v1/devices/${a.deviceId}/state`)).refused).toMatchObject({ lastReason: 'schema' });
    expect((await driverOf(a.deviceId)).driver).toMatchObject({ name: '王师傅' });
    // A card from a terminal whose clock is a day ahead: refused, or every later card would look older.
    expect(await a.terminal.answerTo(a.terminal.driverCard({ status: 'in', time: at(-86_400), ...CHEN }))).toBe(2);
    expect((await get(`/v1/devices/${a.deviceId}/state`)).refused).toMatchObject({ lastReason: 'future_fix' });
    expect(await driverOf(a.deviceId)).toMatchObject({ staffId: undefined, driver: { name: '王师傅' } });
  });

  it('a badge is worn, not driven: its card report is not supported and links nobody', async () => {
    const terminalId = String(++numbers);
    const res = await inject(gw, 'POST', '/v1/devices', {
      auth: gw.tenant.secretKey,
      body: { kind: 'badge', name: 'JT/T 808 badge', protocol: 'jt808', terminalId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const badge = new Jt808Terminal(terminalId, 2019);
    terminals.push(badge);
    await badge.connect(gw.telemetry!.jt808Port!);
    expect(await badge.authenticate((await badge.register()).code!)).toBe(0);
    expect(await badge.answerTo(badge.driverCard({ status: 'in', time: at(5), ...CHEN }))).toBe(3);
    expect(await driverOf(res.body.device.id)).toEqual({ staffId: undefined, driver: null });
    expect(await trucksOf(CHEN.id)).toEqual([]);
  });
});

describe('a driver card resent after a gateway stopped halfway', () => {
  it('completes what was left undone: the truck linked, the driver checked in', async () => {
    const { deviceId, terminal } = await truck();
    const time = at(30);
    // As if a gateway recorded the card and stopped before linking the truck: the terminal,
    // not answered, sends the report again.
    const driver = { staffId: CHEN.id, name: CHEN.name, qualificationCode: CHEN.code, since: time };
    await gw.redis.client.hset(tenantKeys(gw.tenant.id).deviceState(deviceId), 'driverCardAt', String(time), 'driver', JSON.stringify(driver));
    expect(await trucksOf(CHEN.id)).toEqual([]);
    expect(await terminal.answerTo(terminal.driverCard({ status: 'in', time, ...CHEN }))).toBe(0);
    expect(await trucksOf(CHEN.id)).toEqual([deviceId]);
    expect((await attendance(time)).onDuty).toContainEqual({ deviceId, staffId: CHEN.id, unitId: null, since: new Date(time).toISOString() });
  });
});

describe('qualification certificate numbers on staff', () => {
  const staff = (body: Record<string, unknown>) =>
    inject(gw, 'POST', '/v1/staff', { auth: gw.tenant.secretKey, body: { role: 'worker', unitId: 'sanitation', ...body } });
  const patch = (id: string, body: Record<string, unknown>) => inject(gw, 'PATCH', `/v1/staff/${id}`, { auth: gw.tenant.secretKey, body });
  const listed = async (id: string, auth = gw.tenant.secretKey) =>
    ((await inject(gw, 'GET', '/v1/staff', { auth })).body.items as { id: string; phone?: string; qualificationCode?: string }[]).find((s) => s.id === id);

  it('names one driver: a number already held is refused, changing nothing; a number let go can be given again', async () => {
    const taken = await staff({ id: 'drv-copy', name: 'Copy', qualificationCode: LI.code });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CL_ERR_QUALIFICATION_TAKEN');
    expect(await listed('drv-copy')).toBeUndefined();
    expect(await listed(LI.id)).toMatchObject({ qualificationCode: LI.code });

    expect((await staff({ id: 'drv-zhao', name: '赵师傅' })).status).toBe(201);
    const clash = await patch('drv-zhao', { qualificationCode: LI.code, phone: '13800000000' });
    expect(clash.body.error?.code).toBe('CL_ERR_QUALIFICATION_TAKEN');
    expect(await listed('drv-zhao')).toEqual(expect.objectContaining({ id: 'drv-zhao', name: '赵师傅' }));
    expect((await listed('drv-zhao'))!.phone).toBeUndefined();

    // Chen's number changes: the old one is free for Zhao, the new one is Chen's.
    expect((await patch(CHEN.id, { qualificationCode: '440106199002029999' })).body.qualificationCode).toBe('440106199002029999');
    expect((await patch('drv-zhao', { qualificationCode: CHEN.code })).status).toBe(200);
    // Removed with null; a number with spaces or longer than a card holds is refused.
    const removed = await patch('drv-zhao', { qualificationCode: null });
    expect(removed.status).toBe(200);
    expect(removed.body).not.toHaveProperty('qualificationCode');
    // Let go, the number is Chen's to take back.
    expect((await patch(CHEN.id, { qualificationCode: CHEN.code })).status).toBe(200);
    for (const bad of ['4401 0619', '4'.repeat(21), ''])
      expect((await patch('drv-zhao', { qualificationCode: bad })).body.error?.code).toBe('CL_ERR_VALIDATION');
  });

  it("is shown to admins and servers only: it is often the driver's ID card number", async () => {
    const dispatcher = await gw.tenant.token('d-cards', 'dispatcher');
    const admin = await gw.tenant.token('a-cards', 'admin');
    expect(await listed(LI.id, admin)).toMatchObject({ qualificationCode: LI.code });
    const seen = await listed(LI.id, dispatcher);
    expect(seen).toMatchObject({ id: LI.id, name: LI.name });
    expect(seen).not.toHaveProperty('qualificationCode');
  });
});
