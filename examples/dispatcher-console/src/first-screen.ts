import type { BlackSpot, CivicLoop, DeviceAlert, GeoJsonFeatureCollection, StatsResult, Ticket, Zone } from '@civicloop/sdk';

// What the console shows when it opens, read in one place for both sides: the console's server
// reads it with the page's own token and sends it with the page (no request waits for the page's
// script, no CORS preflight), and the page reads it the same way itself when the server could not.

export const OPEN_STATES = ['reported', 'dispatched', 'accepted', 'on_site', 'resolved', 'rework'] as const;
export type OpenState = (typeof OPEN_STATES)[number];

const BOARD_KEYS = [
  'id',
  'number',
  'version',
  'status',
  'category',
  'priority',
  'channel',
  'description',
  'unitId',
  'assigneeId',
  'sla',
  'extension',
  'urgeCount',
  'escalationLevel',
  'createdAt',
  'updatedAt',
  'resolvedAt',
  'photos',
  'afterPhotos',
] as const;

/**
 * What the board, the map, the filters and the verify queue read of a ticket. The first screen
 * sends only this for its open tickets (thousands of them must cross into a slow phone-class
 * page quickly); a ticket's dialog reads the ticket whole.
 */
export type BoardTicket = Pick<Ticket, (typeof BOARD_KEYS)[number]> & { location: Pick<Ticket['location'], 'lat' | 'lon' | 'address'> };

/** A ticket as the board reads it: those fields the ticket has, nothing else. */
export function boardTicket(ticket: Ticket): BoardTicket {
  const picked: Record<string, unknown> = {};
  for (const key of BOARD_KEYS) if (ticket[key] !== undefined) picked[key] = ticket[key];
  const { lat, lon, address } = ticket.location;
  picked.location = address === undefined ? { lat, lon } : { lat, lon, address };
  return picked as BoardTicket;
}

/** The KPI cards' figures: today, and the last seven days by day, in the tenant's time zone. */
export interface Figures {
  today: string;
  /** The seven days the chart shows, oldest first, "2026-12-02". */
  days: string[];
  todayStats: StatsResult;
  weekStats: StatsResult;
}

export interface FirstScreen {
  me: Awaited<ReturnType<CivicLoop['me']>>;
  /** The tenant's categories, disabled ones too: their tickets are still on the board. */
  catalogue: Awaited<ReturnType<CivicLoop['catalogue']['list']>>;
  units: Awaited<ReturnType<CivicLoop['units']['list']>>;
  staff: Awaited<ReturnType<CivicLoop['staff']['list']>>;
  /**
   * The tenant's event stream position read before anything below: the page subscribes from it,
   * so whatever changed while the page was read and loaded still reaches it.
   */
  lastEventId: string;
  /** Open tickets, every state, in the display system, as the board reads them. */
  open: BoardTicket[];
  fleet: GeoJsonFeatureCollection;
  zones: Zone[];
  // The side panels: each that cannot be read says why in its place, the rest of the page shows.
  blackSpots: Panel<BlackSpot[]>;
  /** The 50 most recently closed tickets, for the follow-up list. */
  recentlyClosed: Panel<Ticket[]>;
  figures: Panel<Figures>;
  /** The newest device alerts, newest first, from before the page subscribed: an SOS raised before a reload is still shown. */
  alerts: Panel<{ streamId: string; alert: DeviceAlert }[]>;
}

/** A side panel's content, or why it could not be read (as a person reads it, with the code). */
export type Panel<T> = { value: T } | { error: string };

/** An SDK error as a person reads it: the message, then the stable code to quote. */
export function explain(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && error instanceof Error) return `${error.message} (${String((error as { code: unknown }).code)})`;
  return error instanceof Error ? error.message : String(error);
}

const panel = <T>(read: Promise<T>): Promise<Panel<T>> =>
  read.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: explain(error) }),
  );

/** The tenant's display system: every point the console shows is in it. */
export const displayCrsOf = (me: FirstScreen['me']) => me.tenant.policy.defaultCrs ?? 'wgs84';

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** A calendar day in a time zone, "2026-12-02", as the stats API takes it. */
export function dayIn(timeZone: string, ms: number): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Today's figures and the week's reports per day, both asked at once. */
export async function readFigures(client: CivicLoop, timeZone: string, now = Date.now()): Promise<Figures> {
  const today = dayIn(timeZone, now);
  const days = Array.from({ length: 7 }, (_, i) => dayIn(timeZone, now - (6 - i) * 86_400_000));
  const [todayStats, weekStats] = await Promise.all([client.stats({ from: today, to: today }), client.stats({ from: days[0]!, to: today, by: 'day' })]);
  return { today, days, todayStats, weekStats };
}

/** Every open ticket: one page chain per state, side by side, rather than one chain through them all. */
export async function readOpenTickets(client: CivicLoop, crs: ReturnType<typeof displayCrsOf>): Promise<BoardTicket[]> {
  const perState = await Promise.all(
    OPEN_STATES.map(async (status) => {
      const found: BoardTicket[] = [];
      for await (const ticket of client.tickets.list({ status, limit: 200, crs })) found.push(boardTicket(ticket));
      return found;
    }),
  );
  return perState.flat();
}

/** The closed tickets the follow-up list looks through. */
export async function readRecentlyClosed(client: CivicLoop, crs: ReturnType<typeof displayCrsOf>): Promise<Ticket[]> {
  return (await client.tickets.list({ status: 'closed', limit: 50, crs })).items;
}

/**
 * Everything the console's first screen shows. Who is signed in comes first (the display system
 * and time zone are the tenant's); then the stream position, then the rest side by side.
 */
export async function readFirstScreen(client: CivicLoop): Promise<FirstScreen> {
  const [me, catalogue, units, staff, lastEventId] = await Promise.all([
    client.me(),
    client.catalogue.list({ all: true }),
    client.units.list(),
    client.staff.list(),
    client.eventPosition(),
  ]);
  const crs = displayCrsOf(me);
  const [open, fleet, zones, blackSpots, recentlyClosed, figures, alerts] = await Promise.all([
    readOpenTickets(client, crs),
    client.fleet.live({ crs }),
    client.zones.list({ crs }),
    panel(client.blackSpots({ status: 'open' })),
    panel(readRecentlyClosed(client, crs)),
    panel(readFigures(client, me.tenant.policy.timeZone)),
    panel(client.fleet.alerts({ limit: 20 })),
  ]);
  return { me, catalogue, units, staff, lastEventId, open, fleet, zones, blackSpots, recentlyClosed, figures, alerts };
}
