import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';

// One injected clock for two gateways on one Redis; their schedulers are driven pass by pass.
let clock = Date.parse('2026-11-23T01:00:00Z');
const now = () => new Date(clock);
const MINUTE = 60_000;

let redis: TestRedis;
let a: TestGateway;
let b: TestGateway;
beforeAll(async () => {
  redis = await startTestRedis();
  a = await startTestGateway({ schedulerEnabled: false }, { redis, now });
  b = await startTestGateway({ schedulerEnabled: false }, { redis, now });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

const timeline = async (client: CivicLoop, id: string) =>
  (await client.tickets.history(id))
    .filter((e) => e.type === 'deadline_warning' || e.type === 'escalated')
    .map((e) => [e.type, e.data?.deadline, e.data?.percent, e.data?.level ?? null]);

/** Both schedulers race over the same due work at the same instant. */
async function bothPassAt(at: number) {
  clock = at;
  const [x, y] = await Promise.all([a.scheduler.runOnce(), b.scheduler.runOnce()]);
  return x + y;
}

describe('time limits and escalation', () => {
  it('warns at 50 % and 75 %, escalates at the breach and further steps, once each with two schedulers', async () => {
    const server = new CivicLoop({ baseUrl: a.url, apiKey: a.tenant.secretKey });
    const worker = new CivicLoop({ baseUrl: a.url, apiKey: a.tenant.publishableKey, token: await a.tenant.token('w-1', 'worker', { unitId: 'sanitation' }) });
    const ticket = await server.tickets.create(BIN_REPORT);
    const dispatched = (await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' })).ticket;
    const t0 = Date.parse(dispatched.dispatchedAt!);
    const at = (deadline: 'respond' | 'arrive' | 'resolve', percent: number) => t0 + ((Date.parse(dispatched.sla![`${deadline}By`]) - t0) * percent) / 100;
    // The category's limits: respond within 30 min, arrive within 1 h, resolve within 3 h.
    expect([at('respond', 100), at('arrive', 100), at('resolve', 100)].map((t) => (t - t0) / MINUTE)).toEqual([30, 60, 180]);

    expect(await bothPassAt(at('respond', 50) - 1)).toBe(0);
    expect(await bothPassAt(at('respond', 50))).toBe(1);
    expect(await bothPassAt(at('respond', 75))).toBe(1);
    // 30 min: the response deadline is breached and the arrival one half gone, in the same pass.
    expect(await bothPassAt(at('respond', 100))).toBe(2);
    expect(await bothPassAt(at('respond', 100) + MINUTE)).toBe(0);
    clock = at('respond', 100) + 2 * MINUTE;
    await worker.tickets.accept(ticket.id);
    // Accepted: no more about responding; arriving and resolving go on.
    expect(await bothPassAt(at('respond', 150))).toBe(1);
    expect(await timeline(server, ticket.id)).toEqual([
      ['deadline_warning', 'respond', 50, null],
      ['deadline_warning', 'respond', 75, null],
      ['escalated', 'respond', 100, 1],
      ['deadline_warning', 'arrive', 50, null],
      ['deadline_warning', 'arrive', 75, null],
    ]);

    // The gateways stop for hours; a new one finds the schedule in Redis and records only the
    // worst of what it missed for each deadline.
    await a.close();
    const c = await startTestGateway({ schedulerEnabled: false }, { redis, now });
    try {
      clock = at('resolve', 200) + MINUTE;
      expect(await c.scheduler.runOnce()).toBe(2);
      const later = new CivicLoop({ baseUrl: c.url, apiKey: a.tenant.secretKey });
      expect((await timeline(later, ticket.id)).slice(5)).toEqual([
        ['escalated', 'arrive', 200, 3],
        ['escalated', 'resolve', 200, 3],
      ]);
      const final = await later.tickets.get(ticket.id);
      expect(final).toMatchObject({ escalationLevel: 3, overdue: true, timers: { respond: 100, arrive: 200, resolve: 200 } });
      const escalation = (await later.tickets.history(ticket.id)).find((e) => e.type === 'escalated' && e.data?.deadline === 'resolve')!;
      expect(escalation.actor).toMatchObject({ sub: 'system:scheduler', role: 'service' });
      expect(escalation.data).toMatchObject({ overdueMinutes: 181 });
      expect(await c.scheduler.runOnce()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('an approved extension moves the resolve milestones; a resolved ticket is no longer watched', async () => {
    clock = Date.parse('2026-11-24T01:00:00Z');
    const server = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.secretKey });
    const worker = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await b.tenant.token('w-2', 'worker', { unitId: 'sanitation' }) });
    const ticket = await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.2, lon: 113.4 } });
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-2' });
    await worker.tickets.accept(ticket.id);
    clock += 5 * MINUTE;
    await worker.tickets.arrive(ticket.id);
    // 150 min into a 180 min limit: 75 % warned.
    clock = Date.parse('2026-11-24T01:00:00Z') + 150 * MINUTE;
    await b.scheduler.runOnce();
    expect((await timeline(server, ticket.id)).filter(([, d]) => d === 'resolve')).toEqual([['deadline_warning', 'resolve', 75, null]]);
    await worker.tickets.requestExtension(ticket.id, { minutes: 180, reason: 'Waiting for a new bin' });
    await server.tickets.reviewExtension(ticket.id, { approve: true });
    // The deadline is now 6 h after dispatch, watched afresh: no breach at the old time, but the
    // new span's 50 % (3 h) and 75 % (4.5 h).
    clock = Date.parse('2026-11-24T01:00:00Z') + 181 * MINUTE;
    expect(await b.scheduler.runOnce()).toBe(1);
    clock = Date.parse('2026-11-24T01:00:00Z') + 270 * MINUTE;
    expect(await b.scheduler.runOnce()).toBe(1);
    expect((await timeline(server, ticket.id)).filter(([, d]) => d === 'resolve')).toEqual([
      ['deadline_warning', 'resolve', 75, null],
      ['deadline_warning', 'resolve', 50, null],
      ['deadline_warning', 'resolve', 75, null],
    ]);
    await worker.tickets.resolve(ticket.id, { photos: [{ ref: 'https://photos.example.org/after.jpg' }] });
    clock = Date.parse('2026-11-24T01:00:00Z') + 24 * 60 * MINUTE;
    expect(await b.scheduler.runOnce()).toBe(0);
  });
});

describe('follow-up after close', () => {
  it('asks the reporter once when a ticket closes; a hotline agent records the answer by phone', async () => {
    clock = Date.parse('2026-11-25T02:00:00Z');
    const server = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.secretKey });
    const token = (sub: string, role: 'citizen' | 'worker' | 'supervisor' | 'dispatcher') =>
      b.tenant.token(sub, role, role === 'worker' ? { unitId: 'sanitation' } : {});
    const resident = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await token('resident-77', 'citizen') });
    const worker = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await token('w-1', 'worker') });
    const supervisor = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await token('s-1', 'supervisor') });
    const agent = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await token('agent-12345', 'dispatcher') });
    const ticket = await resident.tickets.create({ ...BIN_REPORT, location: { lat: 23.3, lon: 113.45 }, contact: '138****1234' });
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await worker.tickets.accept(ticket.id);
    await worker.tickets.arrive(ticket.id);
    await worker.tickets.resolve(ticket.id, { photos: [{ ref: 'https://photos.example.org/after.jpg' }] });
    expect(await b.scheduler.runOnce()).toBe(0);
    await supervisor.tickets.verify(ticket.id, { outcome: 'pass' });

    clock += 1000;
    expect(await b.scheduler.runOnce()).toBe(1);
    clock += 60_000;
    expect(await b.scheduler.runOnce()).toBe(0);
    const asked = (await server.tickets.history(ticket.id)).at(-1)!;
    expect(asked).toMatchObject({ type: 'followup_requested', actor: { sub: 'system:scheduler' }, data: { reporter: 'resident-77', callBack: true } });

    // The resident does not answer in the app; the hotline calls them the same afternoon.
    clock += 3 * 60 * MINUTE;
    const recorded = await agent.tickets.feedback(ticket.id, { rating: 4, comment: 'Happy, by phone', via: 'phone' });
    expect(recorded.ticket.feedback).toMatchObject({ rating: 4, via: 'phone', sameDay: true, by: { sub: 'agent-12345', role: 'dispatcher' } });
    clock += 24 * 60 * MINUTE;
    expect(await b.scheduler.runOnce()).toBe(0);
    expect((await resident.tickets.history(ticket.id)).filter((e) => e.type === 'followup_requested')).toHaveLength(1);
  });
});

describe('the scheduler loop', () => {
  it("runs by itself in a gateway: a closed ticket's reporter is asked without anyone calling it", async () => {
    const live = await startTestGateway({ schedulerEnabled: true, schedulerPollMs: 50 });
    try {
      const server = new CivicLoop({ baseUrl: live.url, apiKey: live.tenant.secretKey });
      const resident = new CivicLoop({ baseUrl: live.url, apiKey: live.tenant.publishableKey, token: await live.tenant.token('resident-9', 'citizen') });
      const ticket = await resident.tickets.create(BIN_REPORT);
      await server.tickets.reject(ticket.id, { reason: 'void' });
      const other = await resident.tickets.create({ ...BIN_REPORT, location: { lat: 23.3, lon: 113.3 } });
      await server.tickets.dispatch(other.id, { unitId: 'sanitation', assigneeId: 'w-1' });
      await server.tickets.accept(other.id);
      await server.tickets.arrive(other.id);
      await server.tickets.resolve(other.id, { photos: [{ ref: 'https://photos.example.org/a.jpg' }] });
      await server.tickets.verify(other.id, { outcome: 'pass' });
      const deadline = Date.now() + 5000;
      let types: string[] = [];
      while (Date.now() < deadline && !types.includes('followup_requested')) {
        await new Promise((r) => setTimeout(r, 50));
        types = (await server.tickets.history(other.id)).map((e) => e.type);
      }
      expect(types.at(-1)).toBe('followup_requested');
      // A rejected report is not followed up.
      expect((await server.tickets.history(ticket.id)).map((e) => e.type)).not.toContain('followup_requested');
    } finally {
      await live.close();
    }
  });
});

describe('deadlines in working hours', () => {
  it('refuses a bad calendar, then counts a Friday-evening dispatch into Monday: no warnings over the weekend, on time by the recorded deadline', async () => {
    const server = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.secretKey });
    const worker = new CivicLoop({ baseUrl: b.url, apiKey: b.tenant.publishableKey, token: await b.tenant.token('w-1', 'worker', { unitId: 'sanitation' }) });
    const stored = async () => (await b.redis.client.get(`cl:{${b.tenant.id}}:tenant`))!;
    const before = await stored();
    for (const bad of [
      { workingHours: { days: [1, 2, 3, 4, 5], start: '18:00', end: '09:00' } },
      { workingHours: { days: [1, 8], start: '09:00', end: '18:00' } },
      { workingHours: { days: [1], start: '9am', end: '18:00' } },
      { timeZone: 'Mars/Olympus_Mons' },
    ]) {
      await expect(server.updatePolicy(bad as never)).rejects.toMatchObject({ code: 'CL_ERR_VALIDATION' });
    }
    expect(await stored()).toBe(before);

    const office = { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', holidays: ['2026-12-25'] };
    expect((await server.updatePolicy({ workingHours: office })).policy.workingHours).toEqual(office);
    try {
      // Friday 27 November, 17:00 in Shanghai. Overflowing bin: resolve within 3 working hours.
      clock = Date.parse('2026-11-27T17:00:00+08:00');
      const ticket = await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.05, lon: 113.15 } });
      const { ticket: dispatched } = await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
      expect(dispatched.sla).toMatchObject({ countedIn: 'working_hours', resolveBy: new Date('2026-11-30T11:00:00+08:00').toISOString() });
      clock += 10 * MINUTE;
      await worker.tickets.accept(ticket.id);
      await worker.tickets.arrive(ticket.id);
      const resolveTimeline = async () => (await timeline(server, ticket.id)).filter(([, d]) => d === 'resolve');

      // Saturday noon: around the clock this would be far past the breach; in working hours nothing is due.
      clock = Date.parse('2026-11-28T12:00:00+08:00');
      await b.scheduler.runOnce();
      expect(await resolveTimeline()).toEqual([]);
      // Monday 09:30: half of the three working hours is gone (one on Friday, half an hour now).
      clock = Date.parse('2026-11-30T09:30:00+08:00');
      await b.scheduler.runOnce();
      expect(await resolveTimeline()).toEqual([['deadline_warning', 'resolve', 50, null]]);

      // Resolved Monday 10:30: on time against the recorded deadline (around the clock it was due Friday 20:00).
      clock = Date.parse('2026-11-30T10:30:00+08:00');
      await worker.tickets.resolve(ticket.id, { photos: [{ ref: 'https://photos.example.org/after.jpg' }] });
      await b.stats.catchUp(b.tenant.id);
      const [day] = (await server.stats({ from: '2026-11-27', to: '2026-11-27' })).groups;
      expect(day).toMatchObject({ created: 1, completionRate: 1, onTimeCompletionRate: 1 });
    } finally {
      await server.updatePolicy({ workingHours: null });
    }
  });
});
