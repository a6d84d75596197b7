import type { BoardTicket } from '../first-screen.js';
import { nextDeadline } from './deadlines.js';

/** What the dispatcher narrowed the board to; empty strings mean "any". */
export interface BoardFilter {
  text: string;
  unit: string;
  zone: string;
  category: string;
  channel: string;
  state: string;
  overdueOnly: boolean;
}

export const NO_FILTER: BoardFilter = { text: '', unit: '', zone: '', category: '', channel: '', state: '', overdueOnly: false };

type Ring = [number, number][];
export interface ZoneShape {
  id: string;
  rings: Ring[][];
}

/** Ray casting over a polygon's outer ring minus its holes, in whatever system both are drawn in. */
function inRing(point: [number, number], ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > point[1] !== yj > point[1] && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
export function inZone(point: [number, number], zone: ZoneShape): boolean {
  return zone.rings.some(([outer, ...holes]) => outer !== undefined && inRing(point, outer) && !holes.some((hole) => inRing(point, hole)));
}

/** Whether a ticket is overdue on the deadline it has still to meet. */
export function isOverdue(ticket: BoardTicket, now: number): boolean {
  return nextDeadline(ticket, now)?.breached ?? false;
}

export function matches(ticket: BoardTicket, filter: BoardFilter, zones: ReadonlyMap<string, ZoneShape>, now: number): boolean {
  const text = filter.text.trim().toLowerCase();
  if (
    text &&
    !ticket.number.toLowerCase().includes(text) &&
    !ticket.description.toLowerCase().includes(text) &&
    !(ticket.location.address ?? '').toLowerCase().includes(text)
  )
    return false;
  if (filter.unit && ticket.unitId !== filter.unit) return false;
  if (filter.category && ticket.category !== filter.category) return false;
  if (filter.channel && ticket.channel !== filter.channel) return false;
  if (filter.state && ticket.status !== filter.state) return false;
  if (filter.overdueOnly && !isOverdue(ticket, now)) return false;
  if (filter.zone) {
    const zone = zones.get(filter.zone);
    if (!zone || !inZone([ticket.location.lon, ticket.location.lat], zone)) return false;
  }
  return true;
}
