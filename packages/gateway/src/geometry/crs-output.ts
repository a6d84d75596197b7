import type { BlackSpot, CrsName, DeviceAlert, Location, TicketEvent } from '@civicloop/model';
import { fromWgs84 } from './crs.js';

// Stored points are WGS-84; these give them in the system a reader asked for (?crs= on reads,
// a webhook endpoint's crs), for a basemap that draws in it. Each returns what it was given,
// untouched, when WGS-84 is asked for.

const converts = (crs: CrsName | undefined): crs is Exclude<CrsName, 'wgs84'> => crs !== undefined && crs !== 'wgs84';

/** A ticket with its location as `crs` draws it (and saying so). */
export function ticketIn<T extends { location: Location }>(ticket: T, crs: CrsName | undefined): T {
  if (!converts(crs)) return ticket;
  return { ...ticket, location: { ...ticket.location, ...fromWgs84(ticket.location.lat, ticket.location.lon, crs), crs } };
}

/** A stored (WGS-84) point as `crs` draws it. */
export function pointIn(point: { lat: number; lon: number }, crs: CrsName): { lat: number; lon: number } {
  return fromWgs84(point.lat, point.lon, crs);
}

/** A device alert with the place it was raised at as `crs` draws it (one without a place as it is). */
export function alertIn(alert: DeviceAlert, crs: CrsName | undefined): DeviceAlert {
  if (!converts(crs) || alert.lat === undefined || alert.lon === undefined) return alert;
  return { ...alert, ...pointIn({ lat: alert.lat, lon: alert.lon }, crs) };
}

/**
 * A ticket event with the place it carries as `crs` draws it, saying so as a ticket's location
 * does (`crs` beside lat and lon). Of the events, only a report carries a place (its `location`).
 */
export function eventIn(event: TicketEvent, crs: CrsName | undefined): TicketEvent {
  const location = (event.data as { location?: { lat?: unknown; lon?: unknown } } | undefined)?.location;
  if (!converts(crs) || typeof location?.lat !== 'number' || typeof location.lon !== 'number') return event;
  return { ...event, data: { ...event.data, location: { ...location, ...pointIn({ lat: location.lat, lon: location.lon }, crs), crs } } };
}

/** A black spot with its centre as `crs` draws it (saying so). */
export function blackSpotIn(spot: BlackSpot, crs: CrsName | undefined): BlackSpot {
  if (!converts(crs)) return spot;
  return { ...spot, center: { ...pointIn(spot.center, crs), crs } };
}
