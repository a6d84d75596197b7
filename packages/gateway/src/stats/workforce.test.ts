import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { calendarDay, nativeTopic } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { WorkforceStats } from './workforce.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SHANGHAI = 8 * 3_600_000;
// 09:00 yesterday in the tenant's zone (Asia/Shanghai): badge events must not be from the future.
const yesterday = Date.now() - DAY;
const NINE = yesterday - ((yesterday + SHANGHAI) % DAY) + 9 * 3_600_000;
const isoDay = (ms: number) => new Date(ms + SHANGHAI).toISOString().slice(0, 10);
let clock = NINE;

let gw: TestGateway;
const clients: MqttClient[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ fleetSampleSeconds: 60 }, { telemetry: true, now: () => new Date(clock) });
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  await gw?.close();
});

async function device(kind: 'badge' | 'vehicle', name: string, extra: Record<string, unknown>) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind, name, ...extra } });
  expect(res.status).toBe(201);
  const id = res.body.device.id as string;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
    username: res.body.credential.username,
    password: res.body.credential.password,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const publish = (channel: 'position' | 'event' | 'status', body: object) =>
    client.publishAsync(nativeTopic(gw.tenant.id, kind, id, channel), JSON.stringify(body), { qos: 1 });
  return { id, publish };
}

describe('attendance coverage and vehicle online rate', () => {
  it('match the figures worked out by hand, by day and unit, each sample taken once', async () => {
    const keys = tenantKeys(gw.tenant.id);
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    // Rostered: w-1, w-2, w-4 (sanitation), w-3 (municipal). A supervisor is not on the roster.
    await inject(gw, 'POST', '/v1/staff', {
      auth: gw.tenant.secretKey,
      body: { id: 'w-4', name: 'Worker Four', role: 'worker', unitId: 'sanitation', skills: ['cleaning'] },
    });
    await inject(gw, 'POST', '/v1/staff', {
      auth: gw.tenant.secretKey,
      body: { id: 's-9', name: 'Supervisor', role: 'supervisor', unitId: 'sanitation', skills: [] },
    });
    const badges = {
      w1: await device('badge', 'Badge 1', { staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] }),
      w2: await device('badge', 'Badge 2', { staffId: 'w-2', unitId: 'sanitation', skills: ['cleaning'] }),
      w3: await device('badge', 'Badge 3', { staffId: 'w-3', unitId: 'municipal', skills: ['road'] }),
      s9: await device('badge', 'Badge S', { staffId: 's-9', unitId: 'sanitation', skills: [] }),
    };
    const t1 = await device('vehicle', 'Truck 1', { unitId: 'sanitation', plate: '粤A-00001' });
    const t2 = await device('vehicle', 'Truck 2', { unitId: 'sanitation', plate: '粤A-00002' });
    await device('vehicle', 'Truck 3', { unitId: 'sanitation', plate: '粤A-00003' });
    const parked = await device('vehicle', 'Truck 4 (disabled)', { unitId: 'sanitation' });
    await inject(gw, 'PATCH', `/v1/devices/${parked.id}`, { auth: gw.tenant.secretKey, body: { disabled: true } });
    const checkIn = async (badge: { publish: typeof t1.publish }, ts: number) => badge.publish('event', { type: 'check_in', ts });
    const presentOn = (ms: number) => gw.redis.client.scard(keys.stats.present(calendarDay(new Date(ms), 'Asia/Shanghai')));

    // The day before: w-2 checks in and stays on duty overnight; one sample, no truck has sent anything yet.
    await checkIn(badges.w2, NINE - DAY);
    await expect.poll(() => presentOn(NINE - DAY)).toBe(1);
    clock = NINE - DAY + MINUTE;
    expect(await gw.stats.workforce.sample(gw.tenant.id, new Date(clock))).toBe(true);

    // The day: w-1 checks in, w-3 twice (counted once), the supervisor too (not on the roster).
    await checkIn(badges.w1, NINE);
    await checkIn(badges.w3, NINE);
    await checkIn(badges.w3, NINE + MINUTE);
    await checkIn(badges.s9, NINE);
    await expect.poll(() => presentOn(NINE)).toBe(2);
    // Trucks 1 and 2 report; truck 3 never does.
    await t1.publish('position', { ts: Date.now(), lat: 23.13, lon: 113.26 });
    await t2.publish('position', { ts: Date.now(), lat: 23.14, lon: 113.27 });
    for (const truck of [t1, t2]) await expect.poll(() => gw.redis.client.hget(keys.deviceState(truck.id), 'online')).toBe('1');

    // Sample at 09:01: two of three trucks online; w-2 is still on duty, so present today as well.
    clock = NINE + MINUTE;
    const other = new WorkforceStats(gw.services);
    const taken = await Promise.all([gw.stats.workforce.sample(gw.tenant.id, new Date(clock)), other.sample(gw.tenant.id, new Date(clock))]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await presentOn(NINE)).toBe(3);

    // Truck 2 goes offline; sample at 09:02 (and a second try in the same minute takes nothing).
    await t2.publish('status', { state: 'offline' });
    await expect.poll(() => gw.redis.client.hget(keys.deviceState(t2.id), 'online')).toBe('0');
    clock = NINE + 2 * MINUTE;
    expect(await gw.stats.workforce.sample(gw.tenant.id, new Date(clock))).toBe(true);
    clock += 30_000;
    expect(await gw.stats.workforce.sample(gw.tenant.id, new Date(clock))).toBe(false);

    // By hand. The day before: roster 4 (w-1, w-2, w-4; w-3), present w-2: 1/4; trucks 0 of 3.
    // The day: present w-1, w-2, w-3: 3/4; truck samples 2 + 1 online of 3 + 3: 3/6.
    // Over both days: (1 + 3) / (4 + 4) and 3 / 9.
    const day = isoDay(NINE);
    const before = isoDay(NINE - DAY);
    const pick = (groups: { key: string; attendanceCoverage: number | null; vehicleOnlineRate: number | null; created: number }[]) =>
      groups.map((g) => [g.key, g.attendanceCoverage, g.vehicleOnlineRate, g.created]);
    expect(pick((await server.stats({ from: day, to: day })).groups)).toEqual([['all', 0.75, 0.5, 0]]);
    expect(pick((await server.stats({ from: before, to: day })).groups)).toEqual([['all', 0.5, 0.3333, 0]]);
    expect(pick((await server.stats({ from: before, to: day, by: 'day' })).groups)).toEqual([
      [before, 0.25, 0, 0],
      [day, 0.75, 0.5, 0],
    ]);
    expect(pick((await server.stats({ from: day, to: day, by: 'unit' })).groups)).toEqual([
      ['municipal', 1, null, 0],
      ['sanitation', 0.6667, 0.5, 0],
    ]);
    // Not kept by category, channel or zone.
    expect((await server.stats({ from: day, to: day, by: 'category' })).groups).toEqual([]);

    const csv = await inject(gw, 'GET', `/v1/stats?from=${day}&to=${day}&by=unit&format=csv`, { auth: gw.tenant.secretKey });
    const [header, ...rows] = (csv.body as string).trim().split('\n');
    expect(header!.split(',').slice(-2)).toEqual(['attendance_coverage', 'vehicle_online_rate']);
    expect(rows.map((row) => row.split(',').slice(-2).join(','))).toEqual(['1,', '0.6667,0.5']);
  });
});
