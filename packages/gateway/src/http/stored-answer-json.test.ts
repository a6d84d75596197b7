import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Actor,
  type Category,
  type Role,
  Ticket,
  type TicketCommand,
  type TicketEvent,
  applyCommand,
  createTicket,
  DEFAULT_TENANT_POLICY,
  EVENT_TYPES,
  TERMINAL_STATUSES,
  findCategory,
} from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CommandResult } from '../routes/shared-schemas.js';
import { buildSerializer } from './serialization.js';
import { storedCommandAnswer, storedTicketAnswer } from './stored-answer-json.js';
import { withNumber } from '../store/ticket-store.js';

/** What fastify's serialiser for the create route's response schema writes. */
const ticketSchemaWrites = buildSerializer()({ schema: Ticket, method: 'POST', url: '/v1/tickets', httpStatus: '201' }) as (ticket: unknown) => string;
/** What fastify's serialiser for the command routes' response schema writes. */
const schemaWrites = buildSerializer()({ schema: CommandResult, method: 'POST', url: '/v1/tickets/:id/dispatch', httpStatus: '200' }) as (
  answer: unknown,
) => string;

// A tenant's own category with questions, so that tickets carry categoryAsReported and answers.
const BIN = findCategory('sanitation.bin_overflow')!;
const ASKING: Category = {
  ...BIN,
  version: 3,
  questions: [
    {
      code: 'size',
      datatype: 'singlevaluelist',
      required: true,
      order: 1,
      description: { 'zh-CN': '多大', en: 'How big' },
      values: [
        { key: 's', name: { 'zh-CN': '小', en: 'S' } },
        { key: 'l', name: { 'zh-CN': '大', en: 'L' } },
      ],
    },
    { code: 'n', datatype: 'number', required: false, order: 2, description: { 'zh-CN': '数', en: 'N' } },
  ],
};
const T0 = new Date('2026-12-04T02:00:00Z');
const dispatcher: Actor = { sub: 'disp-1', role: 'dispatcher' };
const worker: Actor = { sub: 'w-1', role: 'worker', unitId: 'u-clean' };
const supervisor: Actor = { sub: 'sup-1', role: 'supervisor' };
const reporter: Actor = { sub: 'resident-1', role: 'citizen', name: '李' };

/** A report with every optional field a create can set, as the gateway stores it. */
function richTicket(variant: number): Ticket {
  const { ticket } = createTicket(
    {
      category: variant % 2 ? ASKING.code : BIN.code,
      description: 'Bin "overflowing"\nagain, 满了 \u2028 \\ end',
      location: { lat: 23.129, lon: 113.264, accuracy: 12, address: '天河路 1 号' },
      photos: [{ ref: 'https://photos.example.org/a.jpg', caption: 'before', takenAt: '2026-12-04T01:59:00Z' }],
      priority: variant % 3 ? 'high' : undefined,
      contact: '13800000000',
      reporterName: 'Li Wei',
      anonymous: variant % 2 === 0,
      externalId: variant % 3 ? 'hotline-77' : undefined,
      answers: variant % 2 ? { size: 'l', n: 2.5 } : undefined,
    },
    reporter,
    { id: `tk_${variant}`, number: `GZ-20261204-000${variant}`, tenantId: 't1' },
    T0,
    (code) => (code === ASKING.code && variant % 2 ? ASKING : findCategory(code)),
  );
  if (variant % 2) ticket.reportedLocation = { lat: 23.126, lon: 113.259, crs: 'gcj02' };
  if (variant % 3) ticket.partnerId = 'p_estate';
  return ticket;
}

const actors: Actor[] = [dispatcher, worker, supervisor, reporter, { sub: 'w-2', role: 'worker' as Role, unitId: 'u-clean' }];
const afterPhotos = [
  { ref: 'media/after-1.jpg', caption: '修好了' },
  { ref: 'https://photos.example.org/b.jpg', takenAt: '2026-12-04T03:00:00Z' },
];
/** Every command, with and without its optional fields. */
const COMMANDS: TicketCommand[] = [
  { type: 'dispatch', unitId: 'u-clean' },
  { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1', note: 'go' },
  { type: 'reassign', unitId: 'u-roads', assigneeId: 'w-2' },
  { type: 'reassign', unitId: 'u-clean', assigneeId: 'w-1' },
  { type: 'return', reason: 'not ours' },
  { type: 'accept' },
  { type: 'arrive' },
  { type: 'arrive', automatic: true },
  { type: 'resolve', photos: afterPhotos },
  { type: 'verify', outcome: 'pass' },
  { type: 'verify', outcome: 'fail', note: 'still dirty' },
  { type: 'rework' },
  { type: 'reject', reason: 'invalid', note: 'x' },
  { type: 'merge', into: 'tk_9' },
  { type: 'cancel' },
  { type: 'request_extension', minutes: 1440, reason: 'parts on order' },
  { type: 'review_extension', approve: true },
  { type: 'review_extension', approve: false },
  { type: 'reopen', reason: 'came back' },
  { type: 'feedback', rating: 5 },
  { type: 'feedback', rating: 1, comment: '很差' },
  { type: 'urge' },
] as TicketCommand[];
/** The events commands make: all but the report itself and those of timers, follow-up and following. */
const EVENT_TYPES_OF_COMMANDS = EVENT_TYPES.filter(
  (type) => !['reported', 'follower_added', 'deadline_warning', 'escalated', 'followup_requested'].includes(type),
).sort();
const CANDIDATES = COMMANDS.flatMap((command) => actors.map((actor) => ({ command, actor })));

/** The answer as the route sends it when the reader sees what was stored: the JSON the store wrote, as planWrites writes it. */
function sentFromStore(ticket: Ticket, event: TicketEvent): string {
  const json = { ticket: JSON.stringify(ticket), event: JSON.stringify(event) };
  const sent = storedCommandAnswer({ ticket, event, replayed: false, json }, ticket, event);
  expect(sent).toBeDefined();
  return sent!;
}

/** The command answer as sent from the stored JSON, checked against the schema's serialiser; the ticket after it. */
function checkStep(result: ReturnType<typeof applyCommand>, seen: Set<string>): Ticket {
  if (!result.ok) throw result.error;
  expect(JSON.parse(sentFromStore(result.ticket, result.event))).toEqual(JSON.parse(schemaWrites({ ticket: result.ticket, event: result.event })));
  seen.add(result.event.type);
  return result.ticket;
}

/** Applies, one a day, the first command (of COMMANDS, by any of the actors) that makes each event in turn. */
function tour(ticket: Ticket, events: string[], seen: Set<string>): void {
  let at = T0.getTime();
  for (const type of events) {
    at += 86_400_000;
    const result = CANDIDATES.map(({ command, actor }) => applyCommand(ticket, command, actor, new Date(at), { policy: DEFAULT_TENANT_POLICY })).find(
      (one) => one.ok && one.event.type === type,
    );
    expect(result, `a command making ${type} after ${ticket.status}`).toBeDefined();
    ticket = checkStep(result!, seen);
  }
}

describe('a command answer made of the stored JSON', () => {
  it('has exactly the fields and values the response schema writes, along a tour of every event a command makes', () => {
    const seen = new Set<string>();
    for (const variant of [0, 1, 2, 3, 4, 5]) {
      tour(
        richTicket(variant),
        [
          'dispatched',
          'reassigned',
          'returned',
          'dispatched',
          'accepted',
          'extension_requested',
          'extension_refused',
          'extension_requested',
          'extension_approved',
          'urged',
          'arrived',
          'resolved',
          'rework_requested',
          'rework_started',
          'resolved',
          'verified',
          'feedback_recorded',
          'reopened',
        ],
        seen,
      );
      tour(richTicket(variant), ['rejected'], seen);
      tour(richTicket(variant), ['merged'], seen);
      tour(richTicket(variant), ['cancelled'], seen);
    }
    expect([...seen].sort()).toEqual(EVENT_TYPES_OF_COMMANDS);
  });

  it('has exactly the fields and values the response schema writes, for every command along random paths', () => {
    let checked = 0;
    fc.assert(
      // Each step picks one of the commands that apply at that point (so every walk moves on), after up to two days.
      fc.property(fc.nat(5), fc.array(fc.tuple(fc.noBias(fc.nat()), fc.nat(3000)), { minLength: 10, maxLength: 30 }), (variant, steps) => {
        let ticket = richTicket(variant);
        let minutes = 0;
        for (const [pick, later] of steps) {
          minutes += later;
          const now = new Date(T0.getTime() + minutes * 60_000);
          const results = CANDIDATES.map(({ command, actor }) => applyCommand(ticket, command, actor, now, { policy: DEFAULT_TENANT_POLICY })).filter(
            (result) => result.ok,
          );
          if (results.length === 0) break;
          // Ends (rejected, closed ...) are picked one step in four, so that walks get far.
          const goingOn = results.filter((result) => result.ok && !TERMINAL_STATUSES.includes(result.ticket.status));
          const from = goingOn.length > 0 && pick % 4 !== 0 ? goingOn : results;
          ticket = checkStep(from[(pick >> 2) % from.length]!, new Set());
          checked++;
        }
      }),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(1000);
  });

  it('is not used when the reader is shown anything other than what was stored, or nothing was written', () => {
    const ticket = richTicket(0);
    const result = applyCommand(ticket, { type: 'dispatch', unitId: 'u-clean' }, dispatcher, T0);
    if (!result.ok) throw result.error;
    const json = { ticket: JSON.stringify(result.ticket), event: JSON.stringify(result.event) };
    const outcome = { ticket: result.ticket, event: result.event, replayed: false, json };
    expect(storedCommandAnswer(outcome, result.ticket, result.event)).toBe(`{"ticket":${json.ticket},"event":${json.event}}`);
    expect(storedCommandAnswer(outcome, { ...result.ticket }, result.event)).toBeUndefined();
    expect(storedCommandAnswer(outcome, result.ticket, { ...result.event })).toBeUndefined();
    expect(storedCommandAnswer(outcome, result.ticket, null)).toBeUndefined();
    expect(storedCommandAnswer({ ticket: result.ticket, event: null, replayed: true }, result.ticket, null)).toBeUndefined();
  });
});

describe('a create answer made of the stored document', () => {
  it('has exactly the fields and values the Ticket schema writes, with the number the script drew', () => {
    for (const variant of [0, 1, 2, 3, 4, 5]) {
      // As ticket-creation.ts stores it: numbered by the script, so the document's number is empty.
      const stored = { ...richTicket(variant), number: '' };
      const json = withNumber(JSON.stringify(stored), stored.id, `GZ-20261204-${variant}`);
      expect(json, `variant ${variant}`).toBeDefined();
      const answered = { ...stored, number: `GZ-20261204-${variant}` };
      expect(JSON.parse(json!)).toEqual(JSON.parse(ticketSchemaWrites(answered)));
      expect(storedTicketAnswer({ ticket: answered, replayed: false, json }, answered)).toBe(json);
    }
  });

  it('is not made from a document that does not start with the id and the empty number, nor used for a ticket shown otherwise', () => {
    const ticket = { ...richTicket(1), number: '' };
    const { id: _id, ...rest } = ticket;
    expect(withNumber(JSON.stringify({ ...rest, id: ticket.id }), ticket.id, 'N-1')).toBeUndefined();
    expect(withNumber(JSON.stringify({ ...ticket, number: 'N-0' }), ticket.id, 'N-1')).toBeUndefined();
    expect(withNumber(JSON.stringify(ticket), 'tk_other', 'N-1')).toBeUndefined();
    const json = withNumber(JSON.stringify(ticket), ticket.id, 'N-1')!;
    expect(storedTicketAnswer({ ticket, replayed: false, json }, { ...ticket })).toBeUndefined();
    expect(storedTicketAnswer({ ticket, replayed: true }, ticket)).toBeUndefined();
  });
});

describe('command answers from a gateway', () => {
  let gw: TestGateway;
  let workerToken: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    workerToken = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
  });
  afterAll(async () => gw?.close());

  it('answer what a read of the ticket and its history shows, for the operator; a worker still does not see an anonymous reporter', async () => {
    const created = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, anonymous: true, reporterName: 'Li Wei', contact: '13800000000', description: '满了 "again"' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
    expect(dispatched.status).toBe(200);
    expect(dispatched.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const read = await inject(gw, 'GET', `/v1/tickets/${id}`, { auth: gw.tenant.secretKey });
    const history = await inject(gw, 'GET', `/v1/tickets/${id}/history`, { auth: gw.tenant.secretKey });
    const { overdue: _computedOnRead, ...stored } = read.body as Ticket;
    expect(dispatched.body.ticket).toEqual(stored);
    expect(dispatched.body.ticket.reporter).toMatchObject({ name: 'Li Wei', contact: '13800000000' });
    expect(dispatched.body.event).toEqual((history.body as { items: TicketEvent[] }).items.at(-1));

    const accepted = await inject(gw, 'POST', `/v1/tickets/${id}/accept`, { auth: workerToken, body: {} });
    expect(accepted.status).toBe(200);
    expect(accepted.body.ticket.status).toBe('accepted');
    expect(accepted.body.ticket.reporter.name).toBeUndefined();
    expect(accepted.body.ticket.reporter.contact).toBeUndefined();
    expect(accepted.body.event.type).toBe('accepted');
  });

  it('answer a create with what a read of the new ticket shows; a likely duplicate is still flagged', async () => {
    const body = { ...BIN_REPORT, location: { lat: 23.2011, lon: 113.3011 }, description: '满了 "again"', reporterName: 'Li Wei' };
    const first = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body });
    expect(first.status).toBe(201);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.body.number).toMatch(/^[A-Z0-9]+-\d{8}-\d{4}$/);
    const read = await inject(gw, 'GET', `/v1/tickets/${first.body.id}`, { auth: gw.tenant.secretKey });
    const { overdue: _computedOnRead, ...stored } = read.body as Ticket;
    expect(first.body).toEqual(stored);
    const second = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body });
    expect(second.status).toBe(201);
    expect(second.body.likelyDuplicates).toEqual([expect.objectContaining({ id: first.body.id, number: first.body.number })]);
  });

  it('answers a repeated Idempotency-Key with the same ticket and event as the first answer', async () => {
    const created = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
    const path = `/v1/tickets/${created.body.id}/dispatch`;
    const headers = { 'idempotency-key': `cmd-${created.body.id}` };
    const first = await inject(gw, 'POST', path, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' }, headers });
    const again = await inject(gw, 'POST', path, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' }, headers });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });
});
