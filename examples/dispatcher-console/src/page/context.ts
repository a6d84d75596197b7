import type { Actor, Category, CivicLoop, CrsName, Staff, Ticket, Unit } from '@civicloop/sdk';

/** What every part of the page shares: the client, who is signed in, and the tenant's lists. */
export interface ConsoleContext {
  client: CivicLoop;
  actor: Actor;
  displayCrs: CrsName;
  categoryName: (code: string) => string;
  /** The tenant's category now (disabled ones included), for its questions. */
  categoryOf: (code: string) => Category | undefined;
  units: Unit[];
  staff: Staff[];
  /** A command changed a ticket: the board, the map and the detail show the new version. */
  changed: (ticket: Ticket) => void;
}

export { explain } from '../first-screen.js';

/**
 * A command's options that give the answer's ticket in the map's system, as the board's reads
 * do: the answer replaces the ticket on the board and the map (`changed`).
 */
export const inMapCrs = (ctx: Pick<ConsoleContext, 'displayCrs'>) => ({ crs: ctx.displayCrs });
