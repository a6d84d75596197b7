import type { BlackSpot, CrsName, DeviceAlert, Location, TicketEvent } from '@civicloop/model';
import { fromWgs84 } from './crs.js';

// Stored points are WGS-84; these give them in the system a reader asked for (?crs= on reads,
// a webhook endpoint's crs), for a basemap that draws in it. Each returns what it was given,
// untouched, when WGS-84 is asked for.

const converts = (crs: CrsName | undefined): crs is Exclude<CrsName, 'wgs84'> => crs !== undefined && crs !== 'wgs84';

/** Two finite numbers: what can be converted (the converter throws on anything else). Stored points always are. */
const isPlace = (lat: unknown, lon: unknown): boolean => Number.isFinite(lat) && Number.isFinite(lon);

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
  if (!converts(crs) || !isPlace(alert.lat, alert.lon)) return alert;
  return { ...alert, ...pointIn({ lat: alert.lat as number, lon: alert.lon as number }, crs) };
}

/**
 * A ticket event with the place it carries as `crs` draws it, saying so as a ticket's location
 * does (`crs` beside lat and lon). Of the events, only a report carries a place (its `location`).
 */
export function eventIn(event: TicketEvent, crs: CrsName | undefined): TicketEvent {
  const location = (event.data as { location?: { lat?: unknown; lon?: unknown } } | null | undefined)?.location;
  if (!converts(crs) || !isPlace(location?.lat, location?.lon)) return event;
  const place = { lat: location!.lat as number, lon: location!.lon as number };
  return { ...event, data: { ...event.data, location: { ...location, ...pointIn(place, crs), crs } } };
}

/** A black spot with its centre as `crs` draws it (saying so). */
export function blackSpotIn(spot: BlackSpot, crs: CrsName | undefined): BlackSpot {
  if (!converts(crs)) return spot;
  return { ...spot, center: { ...pointIn(spot.center, crs), crs } };
}
