import fastJsonStringify from 'fast-json-stringify';
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCommand, createTicket, type Actor, type Ticket, type TicketCommand, type TicketEvent } from '@civicloop/model';
import { CommandResult } from '../routes/shared-schemas.js';
import { withNullableUnions } from './serialization.js';

const T0 = new Date('2026-11-21T02:00:00Z');
const reporter: Actor = { sub: 'resident-1', role: 'citizen' };
const dispatcher: Actor = { sub: 'disp-1', role: 'dispatcher' };
const worker: Actor = { sub: 'w-1', role: 'worker', unitId: 'u-clean' };
const supervisor: Actor = { sub: 'sup-1', role: 'supervisor' };

/** Every answer a ticket's loop produces: report, dispatch, reassign, accept, arrive, resolve, a failed and a passed check, a rating. */
function answersAlongTheLoop(): { ticket: Ticket; event: TicketEvent | null }[] {
  const created = createTicket(
    { category: 'sanitation.bin_overflow', description: 'bin overflowing', location: { lat: 23.129, lon: 113.264, address: 'Tianhe Rd' } },
    reporter,
    { id: 'tk_1', number: 'GZ-20261121-0001', tenantId: 't1' },
    T0,
  );
  const answers: { ticket: Ticket; event: TicketEvent | null }[] = [created, { ticket: created.ticket, event: null }];
  const steps: [TicketCommand, Actor][] = [
    [{ type: 'dispatch', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher],
    [{ type: 'reassign', unitId: 'u-clean', assigneeId: 'w-1' }, dispatcher],
    [{ type: 'accept' }, worker],
    [{ type: 'arrive' }, worker],
    [{ type: 'resolve', photos: [{ ref: 'media/after-1.jpg' }], note: '已清理' }, worker],
    [{ type: 'verify', outcome: 'fail', note: 'still dirty' }, supervisor],
    [{ type: 'rework' }, worker],
    [{ type: 'resolve', photos: [{ ref: 'media/after-2.jpg' }] }, worker],
    [{ type: 'verify', outcome: 'pass' }, supervisor],
    [{ type: 'feedback', rating: 5, comment: 'thanks' }, reporter],
  ];
  let ticket = created.ticket;
  for (const [i, [command, actor]] of steps.entries()) {
    const result = applyCommand(ticket, command, actor, new Date(T0.getTime() + (i + 1) * 60_000));
    if (!result.ok) throw result.error;
    ticket = result.ticket;
    answers.push({ ticket, event: result.event });
  }
  return answers;
}

describe('response serialisation with nullable unions', () => {
  it("writes every command's answer along a ticket's loop exactly as the union schema does", () => {
    const asUnion = fastJsonStringify(CommandResult as object);
    const asNullable = fastJsonStringify(withNullableUnions(CommandResult) as object);
    const answers = answersAlongTheLoop();
    expect(answers).toHaveLength(12);
    // The report's event is the one whose `from` is null; it must come out as null, not "".
    expect(JSON.parse(asNullable(answers[0])).event.from).toBeNull();
    expect(JSON.parse(asNullable(answers[1])).event).toBeNull();
    for (const answer of answers) expect(asNullable(answer)).toBe(asUnion(answer));
  });

  it('leaves no "or null" union in the command answer, and other unions as they are', () => {
    const rewritten = JSON.stringify(withNullableUnions(CommandResult));
    expect(rewritten).not.toContain('"type":"null"');
    expect(JSON.stringify(CommandResult)).toContain('"type":"null"');
    const choice = Type.Object({ v: Type.Union([Type.String(), Type.Integer()]), w: Type.Union([Type.String(), Type.Integer(), Type.Null()]) });
    expect(withNullableUnions(choice)).toEqual(JSON.parse(JSON.stringify(choice)));
    const referenced = { anyOf: [{ $ref: 'Other#' }, { type: 'null' }] };
    expect(withNullableUnions(referenced)).toEqual(referenced);
  });

  it("keeps a union's own description and writes any value of each kind as the union does", () => {
    const schema = Type.Object({
      n: Type.Union([Type.Integer(), Type.Null()], { description: 'a count' }),
      s: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      o: Type.Union([Type.Object({ a: Type.String(), b: Type.Optional(Type.Union([Type.Number(), Type.Null()])) }), Type.Null()]),
      l: Type.Union([Type.Array(Type.Union([Type.String(), Type.Null()])), Type.Null()]),
    });
    expect((withNullableUnions(schema) as { properties: { n: object } }).properties.n).toMatchObject({
      type: 'integer',
      nullable: true,
      description: 'a count',
    });
    const asUnion = fastJsonStringify(schema as object);
    const asNullable = fastJsonStringify(withNullableUnions(schema) as object);
    const value = fc.record({
      n: fc.option(fc.integer(), { nil: null }),
      s: fc.option(
        fc.date({ noInvalidDate: true, min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }).map((d) => d.toISOString()),
        { nil: null },
      ),
      o: fc.option(fc.record({ a: fc.string(), b: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }) }, { requiredKeys: ['a'] }), {
        nil: null,
      }),
      l: fc.option(fc.array(fc.option(fc.string(), { nil: null })), { nil: null }),
    });
    fc.assert(
      fc.property(value, (v) => asNullable(v) === asUnion(v)),
      { numRuns: 2000 },
    );
  });
});
