import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES } from './categories.js';
import { DEFAULT_TENANT_POLICY } from './schemas/admin.js';
import type { Actor, Role } from './schemas/principal.js';
import type { TicketCommand } from './schemas/commands.js';
import { TICKET_STATUSES, type Ticket } from './schemas/ticket.js';
import { addFollower, allowedCommands, applyCommand, createTicket, isOverdue } from './state-machine.js';

const T0 = new Date('2026-11-21T02:00:00Z');
const reporter: Actor = { sub: 'resident-1', role: 'citizen' };
const dispatcher: Actor = { sub: 'disp-1', role: 'dispatcher' };
const worker: Actor = { sub: 'w-1', role: 'worker', unitId: 'u-clean' };
const otherWorker: Actor = { sub: 'w-2', role: 'worker', unitId: 'u-clean' };
const supervisor: Actor = { sub: 'sup-1', role: 'supervisor' };
const photo = { ref: 'media/after-1.jpg' };

function newTicket(category = 'sanitation.bin_overflow'): Ticket {
  return createTicket(
    { category, description: 'bin overflowing', location: { lat: 23.129, lon: 113.264 } },
    reporter,
    { id: 'tk_1', number: 'GZ-20261121-0001', tenantId: 't1' },
    T0,
  ).ticket;
}

function addFollowerOk(ticket: Ticket, follower: string): Ticket {
  const result = addFollower(ticket, follower, undefined, dispatcher, T0);
  if (!result.ok) throw result.error;
  return result.ticket;
}

function step(ticket: Ticket, command: TicketCommand, actor: Actor, minutes: number): Ticket {
  const result = applyCommand(ticket, command, actor, new Date(T0.getTime() + minutes * 60_000));
  if (!result.ok) throw result.error;
  return result.ticket;
}

describe('the closed loop', () => {
  it('walks report to rated close, with rework in between', () => {
    let t = newTicket();
    t = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    expect(t.sla?.resolveBy).toBe(new Date(T0.getTime() + (1 + 180) * 60_000).toISOString());
    t = step(t, { type: 'accept' }, worker, 2);
    t = step(t, { type: 'arrive' }, worker, 10);
    t = step(t, { type: 'resolve', photos: [photo] }, worker, 20);
    t = step(t, { type: 'verify', outcome: 'fail', note: 'still litter behind the bin' }, supervisor, 30);
    expect(t.status).toBe('rework');
    expect(t.reworkCount).toBe(1);
    t = step(t, { type: 'rework' }, worker, 31);
    t = step(t, { type: 'resolve', photos: [{ ref: 'media/after-2.jpg' }] }, worker, 40);
    t = step(t, { type: 'verify', outcome: 'pass' }, supervisor, 45);
    expect(t.status).toBe('closed');
    t = step(t, { type: 'feedback', rating: 5, comment: 'quick' }, reporter, 60);
    expect(t.status).toBe('closed');
    expect(t.feedback).toMatchObject({ rating: 5, sameDay: true });
    expect(t.version).toBe(10);
  });

  it('dates field actions taken offline by when they were done, kept in order and never ahead of the gateway', () => {
    const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000).toISOString();
    let t = step(newTicket(), { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    // Taken in a basement at minutes 2, 8 and 25; the phone sends all three at minute 40.
    t = step(t, { type: 'accept', occurredAt: at(2) }, worker, 40);
    expect(t.acceptedAt).toBe(at(2));
    const arrived = applyCommand(t, { type: 'arrive', occurredAt: at(8) }, worker, new Date(at(40)));
    expect(arrived.ok && arrived.event).toMatchObject({ at: at(40), data: { automatic: false, occurredAt: at(8) } });
    t = step(t, { type: 'arrive', occurredAt: at(8) }, worker, 40);
    expect(t.arrivedAt).toBe(at(8));
    t = step(t, { type: 'resolve', photos: [photo], occurredAt: at(25) }, worker, 40);
    expect([t.resolvedAt, t.updatedAt]).toEqual([at(25), at(40)]);

    // Not before the step it follows (a phone clock far behind), and not after now.
    let u = step(newTicket(), { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 10);
    u = step(u, { type: 'accept', occurredAt: at(-500) }, worker, 12);
    expect(u.acceptedAt).toBe(at(10));
    u = step(u, { type: 'arrive', occurredAt: at(11) }, worker, 13);
    expect(u.arrivedAt).toBe(at(11));
    // A phone a little fast is taken at the gateway's time; one more than 5 minutes fast is refused.
    const tooEarly = applyCommand(u, { type: 'resolve', photos: [photo], occurredAt: at(21) }, worker, new Date(at(15)));
    expect(tooEarly.ok || tooEarly.error.code).toBe('CL_ERR_VALIDATION');
    expect(tooEarly.ok || tooEarly.error.message).toMatch(/ahead of the gateway's clock.*phone's clock/);
    expect(applyCommand(u, { type: 'resolve', photos: [photo], occurredAt: 'yesterday' }, worker, new Date(at(15)))).toMatchObject({ ok: false });
    u = step(u, { type: 'resolve', photos: [photo], occurredAt: at(19) }, worker, 15);
    expect(u.resolvedAt).toBe(at(15));

    // A gateway whose clock is behind the one that recorded the acceptance still keeps the order.
    const skewed = step(step(newTicket(), { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1), { type: 'accept' }, worker, 30);
    expect(step(skewed, { type: 'arrive', occurredAt: at(25) }, worker, 20).arrivedAt).toBe(at(30));

    // After a failed check, the resolve again is not dated before the rework was asked for.
    u = step(u, { type: 'verify', outcome: 'fail', note: 'still dirty' }, supervisor, 30);
    expect(u.reworkRequestedAt).toBe(at(30));
    u = step(u, { type: 'rework' }, worker, 31);
    u = step(u, { type: 'resolve', photos: [photo], occurredAt: at(20) }, worker, 45);
    expect(u.resolvedAt).toBe(at(30));
    // Without occurredAt, a step is dated when the gateway records it, and its event says nothing more.
    const sentBack = step(t, { type: 'verify', outcome: 'fail', note: 'again' }, supervisor, 50);
    const online = applyCommand(sentBack, { type: 'rework' }, worker, new Date(at(51)));
    expect(online.ok && online.event.data).toBeUndefined();
    // A rework started by the badge's return (or offline) is dated then, not before it was asked for.
    const byBadge = applyCommand(sentBack, { type: 'rework', automatic: true, occurredAt: at(53) }, worker, new Date(at(60)));
    expect(byBadge.ok && byBadge.event).toMatchObject({ at: at(60), data: { automatic: true, occurredAt: at(53) } });
    const behind = applyCommand(sentBack, { type: 'rework', occurredAt: at(40) }, worker, new Date(at(60)));
    expect(behind.ok && behind.event.data).toEqual({ occurredAt: at(50) });
  });

  it('lets the reporter or a follower chase (urge) an overdue report, once in 12 hours, and nobody else', () => {
    let t = newTicket();
    t = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    t = addFollowerOk(t, 'resident-2');
    const codeOf = (ticket: Ticket, actor: Actor, minutes: number) => {
      const result = applyCommand(ticket, { type: 'urge' }, actor, new Date(T0.getTime() + minutes * 60_000));
      return result.ok ? 'ok' : result.error.code;
    };
    // Resolve by T0 + 181 min: not before.
    expect(codeOf(t, reporter, 180)).toBe('CL_ERR_NOT_OVERDUE');
    expect(allowedCommands(t, reporter, new Date(T0.getTime() + 180 * 60_000))).not.toContain('urge');
    expect(allowedCommands(t, reporter, new Date(T0.getTime() + 200 * 60_000))).toContain('urge');
    expect(codeOf(t, { sub: 'stranger', role: 'citizen' }, 200)).toBe('CL_ERR_FORBIDDEN');
    expect(codeOf(t, worker, 200)).toBe('CL_ERR_FORBIDDEN');
    const first = applyCommand(t, { type: 'urge', note: '还是满的' }, reporter, new Date(T0.getTime() + 200 * 60_000));
    if (!first.ok) throw first.error;
    expect(first.event).toMatchObject({
      type: 'urged',
      from: 'dispatched',
      to: 'dispatched',
      note: '还是满的',
      data: { count: 1, unitId: 'u-clean', assigneeId: 'w-1' },
    });
    t = first.ticket;
    expect(t).toMatchObject({ status: 'dispatched', urgeCount: 1, urgedAt: new Date(T0.getTime() + 200 * 60_000).toISOString() });
    // Pressing again at once, even as a follower, adds nothing; 12 hours later it counts again.
    expect(codeOf(t, { sub: 'resident-2', role: 'citizen' }, 200 + 11 * 60)).toBe('CL_ERR_URGED_RECENTLY');
    t = step(t, { type: 'urge' }, { sub: 'resident-2', role: 'citizen' }, 200 + 12 * 60);
    expect(t.urgeCount).toBe(2);
    // A dispatcher may take a chase by phone; a resolved report is no longer chased.
    t = step(t, { type: 'accept' }, worker, 200 + 12 * 60 + 1);
    t = step(t, { type: 'arrive' }, worker, 200 + 12 * 60 + 2);
    expect(codeOf(t, dispatcher, 200 + 24 * 60 + 3)).toBe('ok');
    t = step(t, { type: 'resolve', photos: [photo] }, worker, 200 + 24 * 60 + 4);
    expect(codeOf(t, reporter, 200 + 48 * 60)).toBe('CL_ERR_INVALID_TRANSITION');
  });

  it('refuses resolve without an after-photo', () => {
    let t = newTicket();
    t = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    t = step(t, { type: 'accept' }, worker, 2);
    t = step(t, { type: 'arrive' }, worker, 3);
    const result = applyCommand(t, { type: 'resolve', photos: [] }, worker, T0);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CL_ERR_PHOTO_REQUIRED');
  });

  it('lets only the assignee act, and only the reporter cancel', () => {
    let t = newTicket();
    const cancelByOther = applyCommand(t, { type: 'cancel' }, { sub: 'someone-else', role: 'citizen' }, T0);
    expect(!cancelByOther.ok && cancelByOther.error.code).toBe('CL_ERR_FORBIDDEN');
    t = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    const stolen = applyCommand(t, { type: 'accept' }, otherWorker, T0);
    expect(!stolen.ok && stolen.error.code).toBe('CL_ERR_FORBIDDEN');
    const citizenDispatch = applyCommand(newTicket(), { type: 'dispatch', unitId: 'u' }, reporter, T0);
    expect(!citizenDispatch.ok && citizenDispatch.error.code).toBe('CL_ERR_FORBIDDEN');
  });

  it('lets any worker of the unit claim an unassigned ticket', () => {
    let t = step(newTicket(), { type: 'dispatch', unitId: 'u-clean' }, dispatcher, 1);
    t = step(t, { type: 'accept' }, otherWorker, 2);
    expect(t.assigneeId).toBe('w-2');
  });

  it('reopens on a low rating when the tenant rule says so, and not otherwise', () => {
    let t = newTicket();
    t = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    t = step(t, { type: 'accept' }, worker, 2);
    t = step(t, { type: 'arrive' }, worker, 3);
    t = step(t, { type: 'resolve', photos: [photo] }, worker, 4);
    t = step(t, { type: 'verify', outcome: 'pass' }, supervisor, 5);
    const low = applyCommand(t, { type: 'feedback', rating: 1 }, reporter, T0, { policy: { ...DEFAULT_TENANT_POLICY, reopenOnRatingAtOrBelow: 2 } });
    expect(low.ok && low.ticket.status).toBe('dispatched');
    expect(low.ok && low.ticket.reopenCount).toBe(1);
    const later = new Date(T0.getTime() + 60 * 60_000);
    const kept = applyCommand(t, { type: 'feedback', rating: 1 }, reporter, later, { policy: { ...DEFAULT_TENANT_POLICY, reopenOnRatingAtOrBelow: null } });
    expect(kept.ok && kept.ticket.status).toBe('closed');
    if (kept.ok) {
      const again = applyCommand(kept.ticket, { type: 'feedback', rating: 4 }, reporter, later);
      expect(!again.ok && again.error.code).toBe('CL_ERR_ALREADY_RATED');
    }
  });

  it('sets minute-scale deadlines for an emergency', () => {
    const leak = step(newTicket('gas.leak'), { type: 'dispatch', unitId: 'u-gas' }, dispatcher, 0);
    expect(new Date(leak.sla!.arriveBy).getTime() - T0.getTime()).toBeLessThanOrEqual(30 * 60_000);
    expect(isOverdue(leak, new Date(T0.getTime() + 2 * 3600_000))).toBe(true);
    expect(isOverdue(leak, new Date(T0.getTime() + 10 * 60_000))).toBe(false);
  });

  it('merges a duplicate so its reporter follows the original', () => {
    const original = newTicket();
    const merged = addFollower(original, 'resident-2', 'tk_2', dispatcher, T0);
    expect(merged.ok && merged.ticket.followers).toEqual(['resident-2']);
    const self = applyCommand(original, { type: 'merge', into: original.id }, dispatcher, T0);
    expect(!self.ok && self.error.code).toBe('CL_ERR_DUPLICATE_TARGET');
  });

  it('has a catalogue of 40+ categories with both languages', () => {
    expect(CATEGORIES.length).toBeGreaterThanOrEqual(40);
    for (const c of CATEGORIES) {
      expect(c.name['zh-CN'].length).toBeGreaterThan(0);
      expect(c.name.en.length).toBeGreaterThan(0);
      expect(c.sla.respond).toBeLessThanOrEqual(c.sla.arrive);
      expect(c.sla.arrive).toBeLessThanOrEqual(c.sla.resolve);
    }
  });
});

// ---- property-based: random command sequences from random actors ----

const roles: Role[] = ['citizen', 'steward', 'dispatcher', 'worker', 'supervisor', 'admin', 'service'];
const actorArb: fc.Arbitrary<Actor> = fc.oneof(
  fc.constant(reporter),
  fc.constant(dispatcher),
  fc.constant(worker),
  fc.constant(otherWorker),
  fc.constant(supervisor),
  fc.record({ sub: fc.constantFrom('x', 'w-1', 'resident-1'), role: fc.constantFrom(...roles) }),
);
const photosArb = fc.array(fc.constant(photo), { maxLength: 2 });
/** An offline action's time: days before the first report to a little past the steps' clock. */
const occurredAtArb = fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }).map((ms) => new Date(T0.getTime() + ms).toISOString());
const commandArb: fc.Arbitrary<TicketCommand> = fc.oneof(
  fc.record({ type: fc.constant('dispatch' as const), unitId: fc.constant('u-clean'), assigneeId: fc.constantFrom('w-1', 'w-2', undefined) }),
  fc.record({ type: fc.constant('reassign' as const), unitId: fc.constant('u-clean'), assigneeId: fc.constantFrom('w-1', 'w-2') }),
  fc.record({ type: fc.constant('return' as const), reason: fc.constant('not ours') }),
  fc.record({ type: fc.constant('accept' as const), occurredAt: occurredAtArb }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('arrive' as const), automatic: fc.boolean(), occurredAt: occurredAtArb }, { requiredKeys: ['type', 'automatic'] }),
  fc.record({ type: fc.constant('resolve' as const), photos: photosArb, occurredAt: occurredAtArb }, { requiredKeys: ['type', 'photos'] }),
  fc.record({ type: fc.constant('verify' as const), outcome: fc.constantFrom('pass' as const, 'fail' as const), note: fc.constantFrom('', 'dirty') }),
  fc.constant({ type: 'rework' as const }),
  fc.record({ type: fc.constant('reject' as const), reason: fc.constantFrom('invalid' as const, 'void' as const) }),
  fc.record({ type: fc.constant('merge' as const), into: fc.constantFrom('tk_1', 'tk_9') }),
  fc.constant({ type: 'cancel' as const }),
  fc.record({ type: fc.constant('request_extension' as const), minutes: fc.constantFrom(60, 1440), reason: fc.constant('parts on order') }),
  fc.record({ type: fc.constant('review_extension' as const), approve: fc.boolean() }),
  fc.record({ type: fc.constant('reopen' as const), reason: fc.constant('came back') }),
  fc.record({ type: fc.constant('feedback' as const), rating: fc.integer({ min: 1, max: 5 }) }),
);

describe('state machine properties', () => {
  it('never reaches an undefined state, and refusals change nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(commandArb, actorArb), { maxLength: 40 }), (steps) => {
        let t = newTicket();
        let minute = 0;
        for (const [command, actor] of steps) {
          minute += 7;
          const before = structuredClone(t);
          const result = applyCommand(t, command, actor, new Date(T0.getTime() + minute * 60_000));
          if (!result.ok) {
            expect(t).toEqual(before);
            expect(result.error.code).toMatch(/^CL_ERR_/);
            continue;
          }
          expect(TICKET_STATUSES).toContain(result.ticket.status);
          expect(result.ticket.version).toBe(t.version + 1);
          expect(result.event.version).toBe(result.ticket.version);
          expect(result.event.from).toBe(t.status);
          expect(result.event.to).toBe(result.ticket.status);
          const s = result.ticket.status;
          if (['dispatched', 'accepted', 'on_site', 'resolved', 'rework'].includes(s)) {
            expect(result.ticket.unitId).toBeDefined();
            expect(result.ticket.sla).toBeDefined();
          }
          if (s === 'resolved' || (s === 'closed' && command.type === 'verify')) {
            expect(result.ticket.afterPhotos.length).toBeGreaterThan(0);
          }
          // A step's time, however the phone dated it, is never ahead of the gateway nor before the step it follows.
          const { dispatchedAt, acceptedAt, arrivedAt, resolvedAt, updatedAt } = result.ticket;
          for (const time of [acceptedAt, arrivedAt, resolvedAt]) if (time) expect(time <= updatedAt).toBe(true);
          if (acceptedAt && dispatchedAt) expect(dispatchedAt <= acceptedAt).toBe(true);
          if (arrivedAt && acceptedAt) expect(acceptedAt <= arrivedAt).toBe(true);
          if (command.type === 'resolve') expect(resolvedAt! >= arrivedAt!).toBe(true);
          t = result.ticket;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps terminal states terminal; a closed ticket leaves only by reopen or the low-rating rule', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(commandArb, actorArb), { maxLength: 40 }), (steps) => {
        let t = newTicket();
        for (const [command, actor] of steps) {
          const result = applyCommand(t, command, actor, T0);
          if (!result.ok) continue;
          if (t.status === 'rejected' || t.status === 'duplicate' || t.status === 'cancelled') {
            throw new Error(`left terminal state ${t.status} by ${command.type}`);
          }
          if (t.status === 'closed' && result.ticket.status !== 'closed') {
            const byRule = command.type === 'feedback' && command.rating <= 2;
            expect(command.type === 'reopen' || byRule).toBe(true);
            expect(result.ticket.status).toBe('dispatched');
          }
          t = result.ticket;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('offers as allowed exactly the commands whose state and role checks pass', () => {
    const t = newTicket();
    expect(allowedCommands(t, dispatcher, T0).sort()).toEqual(['dispatch', 'merge', 'reject']);
    expect(allowedCommands(t, reporter, T0)).toEqual(['cancel']);
    const assigned = step(t, { type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher, 1);
    expect(allowedCommands(assigned, worker, T0).sort()).toEqual(['accept', 'request_extension', 'return']);
    expect(allowedCommands(assigned, otherWorker, T0)).toEqual([]);
  });
});
