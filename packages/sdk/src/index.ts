export { CivicLoop, Tickets, Units, StaffDirectory, type CivicLoopOptions, type CommandResult } from './client.js';
export { PagePromise, type Page } from './pagination.js';
export { signToken, type SignTokenOptions } from '@civicloop/model';
export { SseParser, type SseMessage } from './sse.js';
export type { SubscribeOptions, Subscription } from './events.js';
export { DEFAULTS, newIdempotencyKey, type RequestOptions, type TransportOptions } from './transport.js';
export * from './errors.js';
export type {
  Ticket,
  TicketEvent,
  TicketStatus,
  StreamEvent,
  CreateTicketInput,
  CommandName,
  CommandBodies,
  Category,
  CategoryCatalogue,
  Unit,
  Staff,
  TokenRole,
} from '@civicloop/model';
