import type { CrsName, GeoJsonFeature } from '@civicloop/sdk';
import type { BoardTicket } from '../first-screen.js';
import { el, svg } from './dom.js';

export const CRS_LABEL: Record<CrsName, string> = { wgs84: 'WGS-84 (GPS)', gcj02: 'GCJ-02 (AMap, Tencent, WeChat)', bd09: 'BD-09 (Baidu)' };

/** A zone as the map draws it: its polygons (outer ring first), in the display system. */
export interface ZoneOutline {
  id: string;
  name: string;
  rings: [number, number][][][];
}

/** What the console asks of a map: the outline below, or the tiled map when tiles are configured. */
export interface ConsoleMap {
  readonly fleet: Map<string, GeoJsonFeature>;
  setZones(zones: readonly ZoneOutline[]): void;
  setTickets(tickets: readonly BoardTicket[]): void;
  moveDevice(feature: GeoJsonFeature): void;
  draw(): void;
}

export const pointOf = (f: GeoJsonFeature) => f.geometry.coordinates as unknown as [number, number];
const deviceIdOf = (f: GeoJsonFeature) => String((f.properties as { deviceId: string }).deviceId);

/**
 * What both maps keep (the zones, the fleet by device, the shown tickets) and how they redraw:
 * changes are coalesced into one draw per animation frame, however many positions arrive.
 */
export abstract class FrameMap implements ConsoleMap {
  readonly fleet = new Map<string, GeoJsonFeature>();
  protected zones: readonly ZoneOutline[] = [];
  protected tickets: readonly BoardTicket[] = [];
  private pending = false;

  setZones(zones: readonly ZoneOutline[]): void {
    this.zones = zones;
    this.schedule();
  }
  setTickets(tickets: readonly BoardTicket[]): void {
    this.tickets = tickets;
    this.schedule();
  }
  moveDevice(feature: GeoJsonFeature): void {
    this.fleet.set(deviceIdOf(feature), feature);
    this.schedule();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  abstract draw(): void;
}

/**
 * The district outline (zones), the fleet and the shown tickets, drawn without tiles: what the
 * console shows when no map style is configured, or when the tiled map cannot start (no WebGL,
 * style unreachable).
 */
export class OutlineMap extends FrameMap {
  constructor(
    private readonly displayCrs: CrsName,
    private readonly note?: string,
  ) {
    super();
  }

  draw(): void {
    const outline = this.zones.flatMap((zone) => zone.rings.map((polygon) => polygon[0]!));
    const points: [number, number][] = [
      ...outline.flat(),
      ...[...this.fleet.values()].map(pointOf),
      ...this.tickets.map((t): [number, number] => [t.location.lon, t.location.lat]),
    ];
    const box = document.getElementById('map')!;
    const title = el('h2', {}, 'Fleet and tickets 车辆人员与案件');
    if (points.length === 0) {
      box.replaceChildren(
        title,
        el('p', { class: 'muted' }, 'No zones, devices or tickets yet.'),
        ...(this.note ? [el('p', { class: 'muted', 'data-map-fallback': '' }, this.note)] : []),
      );
      return;
    }
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
    const scale = 300 / Math.max(east - west, north - south, 1e-4);
    const xy = ([lon, lat]: [number, number]) => [10 + (lon - west) * scale, 10 + (north - lat) * scale] as const;
    const map = svg('svg', {
      viewBox: `0 0 320 ${20 + (north - south) * scale}`,
      role: 'img',
      'aria-label': `Zones, ${this.fleet.size} devices and ${this.tickets.length} open tickets`,
    });
    for (const ring of outline) map.append(svg('path', { class: 'zone', d: `M${ring.map((p) => xy(p).join(',')).join('L')}Z` }));
    for (const t of this.tickets) {
      const [x, y] = xy([t.location.lon, t.location.lat]);
      map.append(svg('circle', { class: 'ticket-dot', cx: x, cy: y, r: 3, 'data-ticket-dot': t.id, 'data-lonlat': `${t.location.lon},${t.location.lat}` }));
    }
    for (const f of this.fleet.values()) {
      const [x, y] = xy(pointOf(f));
      const kind = (f.properties as { kind?: string }).kind;
      map.append(
        kind === 'vehicle' ? svg('rect', { class: 'vehicle', x: x - 3, y: y - 3, width: 6, height: 6 }) : svg('circle', { class: 'badge', cx: x, cy: y, r: 3 }),
      );
    }
    const legend = el(
      'p',
      { class: 'legend' },
      el('span', { class: 'key key-ticket' }, 'Ticket 案件'),
      el('span', { class: 'key key-vehicle' }, 'Vehicle 车辆'),
      el('span', { class: 'key key-badge' }, 'Worker 人员'),
    );
    box.replaceChildren(
      title,
      map,
      legend,
      el('p', { class: 'muted', 'data-crs': this.displayCrs }, `Coordinates: ${CRS_LABEL[this.displayCrs]}`),
      ...(this.note ? [el('p', { class: 'muted', 'data-map-fallback': '' }, this.note)] : []),
    );
  }
}

/**
 * Stands in for a map still starting (MapLibre loading, the style being fetched), so the board
 * does not wait for it: it keeps what it is given and hands it all over once the map is there.
 */
export class MapWhenReady implements ConsoleMap {
  readonly fleet = new Map<string, GeoJsonFeature>();
  private zones: readonly ZoneOutline[] = [];
  private tickets: readonly BoardTicket[] = [];
  private target: ConsoleMap | undefined;

  constructor(ready: Promise<ConsoleMap>) {
    void ready.then((target) => {
      for (const [id, feature] of this.fleet) target.fleet.set(id, feature);
      target.setZones(this.zones);
      target.setTickets(this.tickets);
      this.target = target;
      target.draw();
    });
  }
  setZones(zones: readonly ZoneOutline[]): void {
    this.zones = zones;
    this.target?.setZones(zones);
  }
  setTickets(tickets: readonly BoardTicket[]): void {
    this.tickets = tickets;
    this.target?.setTickets(tickets);
  }
  moveDevice(feature: GeoJsonFeature): void {
    this.fleet.set(deviceIdOf(feature), feature);
    this.target?.moveDevice(feature);
  }
  draw(): void {
    this.target?.draw();
  }
  /** The map itself once it has started (the admin's zone drawing needs the tiled one). */
  current(): ConsoleMap | undefined {
    return this.target;
  }
}

/** A shape being drawn on the map, point by point (clicks on the map add them). */
export interface Drawing {
  undo(): void;
  /** The closed outer ring in the display system, or undefined with fewer than three points; drawing ends. */
  finish(): [number, number][] | undefined;
  cancel(): void;
}

/** A map that can be drawn on: the tiled one (the outline has no real geography to click). */
export interface DrawableMap extends ConsoleMap {
  startDrawing(onChange: (points: number) => void): Drawing;
}

export const isDrawable = (map: ConsoleMap | undefined): map is DrawableMap => !!map && 'startDrawing' in map;
