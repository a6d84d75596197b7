import type { Ticket, TicketEvent } from '@civicloop/model';
import type { CommandOutcome } from '../tickets/ticket-service.js';
import type { CreationOutcome } from '../tickets/ticket-creation.js';

/**
 * A command's answer (`{ticket, event}`) as JSON made of the documents the command just stored,
 * when the reader is shown both as stored: nothing redacted, no photo link signed (`shown` is the
 * stored object itself): the commit already wrote both as JSON, and serialising them again from
 * the schema cost 4-5 µs on an idle core, 6.6 % of a loaded gateway's time per transition in a
 * profile (docs/benchmarks.md). The same fields and values as the route's serialiser writes
 * (http/stored-answer-json.test.ts compares them for every event a command makes), in the order
 * the state machine set them rather than the schema's. `undefined` when the answer must be
 * serialised: a replay, or anything shown differently from how it was stored.
 */
export function storedCommandAnswer(outcome: CommandOutcome, shownTicket: Ticket, shownEvent: TicketEvent | null): string | undefined {
  const { json } = outcome;
  if (!json || shownTicket !== outcome.ticket || shownEvent === null || shownEvent !== outcome.event) return undefined;
  return `{"ticket":${json.ticket},"event":${json.event}}`;
}

/**
 * A create's answer as the JSON of the new ticket as stored (its document with the number the
 * script drew), when the reader is shown it as stored; `undefined` when it must be serialised.
 * The same fields and values as the Ticket schema's serialiser writes (the test compares them).
 */
export function storedTicketAnswer(outcome: CreationOutcome, shown: Ticket): string | undefined {
  return outcome.json !== undefined && shown === outcome.ticket ? outcome.json : undefined;
}
