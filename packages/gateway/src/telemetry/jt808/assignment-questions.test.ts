import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { inject, BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import type { Jt808Terminal, PlatformMessage } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';
import { tenantKeys } from '../../redis/keys.js';

// A driver with no phone answers an assignment on the truck's terminal: the platform's question
// (0x8302, JT/T 808-2013 8.29) offers 接单 and 退回, and the terminal sends the driver's choice
// (0x0302, 8.30) with the question's serial.
let gw: TestGateway;
/** A second gateway on the same Redis, which a terminal may reach after it reconnects. */
let other: TestGateway;
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  other = await startTestGateway({}, { telemetry: true, redis: gw.redis });
});
afterAll(async () => {
  for (const t of terminals) t.close();
  await other?.close();
  await gw?.close();
});

let numbers = 13700000000;
/** A truck driven by `staffId`, its terminal online. */
const truckOf = (staffId: string) => onlineJt808Vehicle(gw, String(++numbers), terminals, { staffId });

async function dispatchedTo(staffId: string, priority = 'normal') {
  const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, priority } });
  expect(ticket.status).toBe(201);
  const res = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
    auth: gw.tenant.secretKey,
    body: { unitId: 'sanitation', assigneeId: staffId },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ticket.body as { id: string; number: string };
}

/** A 0x8302 body read as the standard lays it out: flag, question, candidate answers. */
function readQuestion(message: PlatformMessage) {
  const { body } = message;
  const length = body[1]!;
  const answers: { id: number; text: string }[] = [];
  for (let offset = 2 + length; offset < body.length; ) {
    const size = body.readUInt16BE(offset + 1);
    answers.push({ id: body[offset]!, text: iconv.decode(body.subarray(offset + 3, offset + 3 + size), 'gbk') });
    offset += 3 + size;
  }
  return { flag: body[0]!, question: iconv.decode(body.subarray(2, 2 + length), 'gbk'), answers };
}

const confirm = (terminal: Jt808Terminal, message: PlatformMessage, result = 0) =>
  terminal.send(0x0001, Buffer.from([(message.serial >> 8) & 0xff, message.serial & 0xff, message.id >> 8, message.id & 0xff, result]));
const choose = (terminal: Jt808Terminal, question: PlatformMessage, answerId: number) =>
  terminal.answerTo(terminal.send(0x0302, Buffer.from([(question.serial >> 8) & 0xff, question.serial & 0xff, answerId])));
const ticket = async (id: string) => (await inject(gw, 'GET', `/v1/tickets/${id}`, { auth: gw.tenant.secretKey })).body;
const history = async (id: string) => (await inject(gw, 'GET', `/v1/tickets/${id}/history`, { auth: gw.tenant.secretKey })).body.items;

describe('an assignment answered on the vehicle terminal', () => {
  it('is asked as a question with 接单 and 退回, read aloud (and urgent when the ticket is); 接单 accepts it as the driver', async () => {
    const { terminal } = await truckOf('w-1');
    const job = await dispatchedTo('w-1', 'urgent');
    const question = await terminal.next((m) => m.id === 0x8302);
    const asked = readQuestion(question);
    expect(asked).toEqual({
      flag: 0x09,
      question: expect.stringContaining(`派单 ${job.number}`),
      answers: [
        { id: 1, text: '接单' },
        { id: 2, text: '退回' },
      ],
    });
    confirm(terminal, question);
    expect(await choose(terminal, question, 1)).toBe(0);
    expect((await ticket(job.id)).status).toBe('accepted');
    expect((await history(job.id)).at(-1)).toMatchObject({ type: 'accepted', actor: { sub: 'w-1', role: 'worker' } });
    // Tapped again: already accepted, a failure that changes nothing.
    expect(await choose(terminal, question, 1)).toBe(1);
    expect((await history(job.id)).map((e: { type: string }) => e.type)).toEqual(['reported', 'dispatched', 'accepted']);
  });

  it('退回 gives it back to the dispatchers, saying where; an answer that no longer applies, or to no question, is a failure', async () => {
    const { deviceId, terminal } = await truckOf('w-2');
    const given = await dispatchedTo('w-2');
    const first = await terminal.next((m) => m.id === 0x8302);
    expect(await choose(terminal, first, 2)).toBe(0);
    expect((await ticket(given.id)).status).toBe('reported');
    expect((await history(given.id)).at(-1)).toMatchObject({ type: 'returned', actor: { sub: 'w-2' }, data: { assigneeId: 'w-2' } });

    // Reassigned to w-1 before the driver answers: accepting it now is not theirs to do.
    const moved = await dispatchedTo('w-2');
    const second = await terminal.next((m) => m.id === 0x8302);
    const res = await inject(gw, 'POST', `/v1/tickets/${moved.id}/reassign`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
    expect(res.status).toBe(200);
    expect(await choose(terminal, second, 1)).toBe(1);
    expect((await ticket(moved.id)).assigneeId).toBe('w-1');
    expect((await ticket(moved.id)).status).toBe('dispatched');
    const state = (await inject(gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: gw.tenant.secretKey })).body;
    expect(state.refused).toMatchObject({ lastReason: 'refused_by_loop' });
    // An answer id the question did not offer, and an answer to a serial never asked.
    const third = await dispatchedTo('w-2');
    const asked = await terminal.next((m) => m.id === 0x8302);
    expect(await choose(terminal, asked, 7)).toBe(1);
    expect(await choose(terminal, { ...asked, serial: (asked.serial + 1000) & 0xffff }, 1)).toBe(1);
    expect((await ticket(third.id)).status).toBe('dispatched');
  });

  it('takes an answer to a question asked before the terminal lost its signal, on whichever gateway it comes back to', async () => {
    const { deviceId, terminal, code } = await truckOf('w-2');
    const before = await dispatchedTo('w-2');
    const first = await terminal.next((m) => m.id === 0x8302);
    // The terminal has it on screen (confirmed, so it is not asked again), then the signal goes.
    confirm(terminal, first);
    await expect.poll(() => gw.redis.client.llen(tenantKeys(gw.tenant.id).jt808Outbox(deviceId))).toBe(0);
    terminal.close();
    await terminal.connect(other.telemetry!.jt808Port!);
    expect(await terminal.authenticate(code)).toBe(0);

    // A new question on the new connection is numbered after the first, not from 0 again: each
    // serial names one question, whatever connection it was asked on.
    const after = await dispatchedTo('w-2');
    const second = await terminal.next((m) => m.id === 0x8302);
    expect(readQuestion(second).question).toContain(after.number);
    expect(second.serial).toBeGreaterThan(first.serial);
    // The driver now reads the first and accepts it: that ticket is accepted, the other untouched.
    expect(await choose(terminal, first, 1)).toBe(0);
    expect((await ticket(before.id)).status).toBe('accepted');
    expect((await history(before.id)).at(-1)).toMatchObject({ type: 'accepted', actor: { sub: 'w-2', role: 'worker' } });
    expect((await ticket(after.id)).status).toBe('dispatched');
    expect(await choose(terminal, second, 2)).toBe(0);
    expect((await ticket(after.id)).status).toBe('reported');
  });
});
