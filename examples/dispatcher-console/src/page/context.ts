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

/** An SDK error as a person reads it: the message, then the stable code to quote. */
export function explain(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && error instanceof Error) return `${error.message} (${String((error as { code: unknown }).code)})`;
  return error instanceof Error ? error.message : String(error);
}
