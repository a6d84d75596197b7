import type { Actor, CivicLoop, CrsName, Staff, Ticket, Unit } from '@civicloop/sdk';

/** What every part of the page shares: the client, who is signed in, and the tenant's lists. */
export interface ConsoleContext {
  client: CivicLoop;
  actor: Actor;
  displayCrs: CrsName;
  categoryName: (code: string) => string;
  units: Unit[];
  staff: Staff[];
  /** A command changed a ticket: the board, the map and the detail show the new version. */
  changed: (ticket: Ticket) => void;
}

export { explain } from '../first-screen.js';
