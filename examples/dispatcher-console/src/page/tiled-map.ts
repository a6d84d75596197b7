import type { CrsName } from '@civicloop/sdk';
import { Map as MapLibre, Marker, NavigationControl, AttributionControl, setWorkerUrl, type GeoJSONSource, type MapGeoJSONFeature } from 'maplibre-gl';
import { el } from './dom.js';
import { CRS_LABEL, FrameMap, pointOf, type DrawableMap, type Drawing } from './map.js';

type Collection = { type: 'FeatureCollection'; features: GeoJSON.Feature[] };
const collection = (features: GeoJSON.Feature[]): Collection => ({ type: 'FeatureCollection', features });

const VEHICLE_COLOUR = '#1f7a4d';
const BADGE_COLOUR = '#c76b00';

/**
 * The console's map over the command centre's own tiles (MapLibre GL): zones, the fleet and the
 * shown tickets, both clustered. Tickets and clusters are HTML buttons (keyboard operable, named
 * for screen readers, click to open or zoom in); the fleet is drawn in WebGL. Points arrive in
 * the tenant's display system, which is the system the configured tiles are drawn in.
 */
export class TiledMap extends FrameMap implements DrawableMap {
  private readonly markers = new Map<string, Marker>();
  private fitted = false;

  private constructor(
    private readonly map: MapLibre,
    private readonly box: HTMLElement,
    private readonly open: (ticketId: string) => void,
  ) {
    super();
  }

  /** Resolves once the style has loaded; rejects (no WebGL, style unreachable) so the caller falls back to the outline. */
  static async start(styleUrl: string, displayCrs: CrsName, open: (ticketId: string) => void): Promise<TiledMap> {
    // The worker is served by the console itself (same origin: no blob: in the CSP).
    setWorkerUrl(new URL('/maplibre-gl-worker.mjs', location.href).href);
    const box = document.getElementById('map')!;
    const canvasBox = el('div', { class: 'tiled-map', role: 'region', 'aria-label': 'Map of zones, fleet and tickets 地图' });
    const legend = el(
      'p',
      { class: 'legend' },
      el('span', { class: 'key key-ticket' }, 'Ticket 案件'),
      el('span', { class: 'key key-cluster' }, 'Several, zoom in 多个'),
      el('span', { class: 'key key-vehicle' }, 'Vehicle 车辆'),
      el('span', { class: 'key key-badge' }, 'Worker 人员'),
      el('span', { class: 'key key-zone' }, 'Zone 区域'),
    );
    box.replaceChildren(
      el('h2', {}, 'Fleet and tickets 车辆人员与案件'),
      canvasBox,
      legend,
      el('p', { class: 'muted', 'data-crs': displayCrs }, `Coordinates: ${CRS_LABEL[displayCrs]}`),
    );
    const map = new MapLibre({
      container: canvasBox,
      style: styleUrl,
      center: [113.32, 23.13],
      zoom: 11,
      attributionControl: false,
      cooperativeGestures: false,
    });
    map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    map.addControl(new AttributionControl({ compact: true }));
    await new Promise<void>((resolve, reject) => {
      map.once('load', () => resolve());
      map.once('error', (event) => reject(event.error ?? new Error('the map style could not be loaded')));
    });
    const tiled = new TiledMap(map, box, open);
    tiled.addLayers();
    return tiled;
  }

  private addLayers(): void {
    const map = this.map;
    map.addSource('zones', { type: 'geojson', data: collection([]) });
    map.addLayer({ id: 'zones-fill', type: 'fill', source: 'zones', paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.06 } });
    map.addLayer({ id: 'zones-line', type: 'line', source: 'zones', paint: { 'line-color': '#1d4ed8', 'line-width': 1.5 } });
    map.addSource('fleet', { type: 'geojson', data: collection([]), cluster: true, clusterRadius: 40, clusterMaxZoom: 15 });
    map.addLayer({
      id: 'fleet-clusters',
      type: 'circle',
      source: 'fleet',
      filter: ['has', 'point_count'],
      paint: { 'circle-color': VEHICLE_COLOUR, 'circle-opacity': 0.5, 'circle-radius': ['step', ['get', 'point_count'], 10, 10, 14, 50, 18] },
    });
    map.addLayer({
      id: 'fleet-vehicles',
      type: 'circle',
      source: 'fleet',
      filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'kind'], 'vehicle']],
      paint: { 'circle-color': VEHICLE_COLOUR, 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
    });
    map.addLayer({
      id: 'fleet-badges',
      type: 'circle',
      source: 'fleet',
      filter: ['all', ['!', ['has', 'point_count']], ['!=', ['get', 'kind'], 'vehicle']],
      paint: { 'circle-color': BADGE_COLOUR, 'circle-radius': 4, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 },
    });
    // Tickets are clustered by MapLibre but drawn as HTML buttons (see syncMarkers); this invisible
    // layer is what says which clusters and tickets are drawn at the zoom shown.
    map.addSource('tickets', { type: 'geojson', data: collection([]), cluster: true, clusterRadius: 44, clusterMaxZoom: 16 });
    map.addLayer({ id: 'tickets-hidden', type: 'circle', source: 'tickets', paint: { 'circle-radius': 1, 'circle-opacity': 0, 'circle-stroke-opacity': 0 } });
    map.on('moveend', () => this.syncMarkers());
    map.on('sourcedata', (event) => {
      if (event.sourceId === 'tickets' && event.isSourceLoaded) this.syncMarkers();
    });
  }

  draw(): void {
    const zoneFeatures = this.zones.map(
      (zone): GeoJSON.Feature => ({
        type: 'Feature',
        properties: { id: zone.id, name: zone.name },
        geometry: { type: 'MultiPolygon', coordinates: zone.rings },
      }),
    );
    (this.map.getSource('zones') as GeoJSONSource).setData(collection(zoneFeatures));
    this.box.dataset.zones = String(this.zones.length);
    (this.map.getSource('fleet') as GeoJSONSource).setData(collection([...this.fleet.values()] as unknown as GeoJSON.Feature[]));
    this.box.dataset.fleet = String(this.fleet.size);
    const ticketFeatures = this.tickets.map(
      (t): GeoJSON.Feature => ({
        type: 'Feature',
        properties: { id: t.id, number: t.number, category: t.category, status: t.status },
        geometry: { type: 'Point', coordinates: [t.location.lon, t.location.lat] },
      }),
    );
    (this.map.getSource('tickets') as GeoJSONSource).setData(collection(ticketFeatures));
    this.box.dataset.tickets = String(this.tickets.length);
    if (!this.fitted) this.fitToContent();
  }

  /** The admin draws a zone: each click on the map adds a corner; the shape so far is shown. */
  startDrawing(onChange: (points: number) => void): Drawing {
    const map = this.map;
    const points: [number, number][] = [];
    if (!map.getSource('draft')) {
      map.addSource('draft', { type: 'geojson', data: collection([]) });
      map.addLayer({
        id: 'draft-fill',
        type: 'fill',
        source: 'draft',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#c76b00', 'fill-opacity': 0.15 },
      });
      map.addLayer({ id: 'draft-line', type: 'line', source: 'draft', paint: { 'line-color': '#c76b00', 'line-width': 2, 'line-dasharray': [2, 1] } });
      map.addLayer({
        id: 'draft-points',
        type: 'circle',
        source: 'draft',
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 4, 'circle-color': '#c76b00' },
      });
    }
    const show = () => {
      const corners = points.map((p): GeoJSON.Feature => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
      const shape: GeoJSON.Feature[] =
        points.length >= 3
          ? [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...points, points[0]!]] } }]
          : points.length === 2
            ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: points } }]
            : [];
      (map.getSource('draft') as GeoJSONSource).setData(collection([...shape, ...corners]));
      this.box.dataset.drawnPoints = String(points.length);
      onChange(points.length);
    };
    const click = (event: { lngLat: { lng: number; lat: number } }) => {
      points.push([Number(event.lngLat.lng.toFixed(7)), Number(event.lngLat.lat.toFixed(7))]);
      show();
    };
    map.on('click', click);
    map.getCanvas().classList.add('drawing');
    map.doubleClickZoom.disable();
    const stop = () => {
      map.off('click', click);
      map.getCanvas().classList.remove('drawing');
      map.doubleClickZoom.enable();
      points.length = 0;
      show();
    };
    show();
    return {
      undo: () => {
        points.pop();
        show();
      },
      finish: () => {
        const ring = points.length >= 3 ? [...points, points[0]!] : undefined;
        if (ring) stop();
        return ring;
      },
      cancel: stop,
    };
  }

  /** The first time there is something to show, the map frames the zones (or else the points). */
  private fitToContent(): void {
    const points: [number, number][] = this.zones.length
      ? this.zones.flatMap((z) => z.rings.flatMap((polygon) => polygon[0] ?? []))
      : [...this.tickets.map((t): [number, number] => [t.location.lon, t.location.lat]), ...[...this.fleet.values()].map(pointOf)];
    if (points.length === 0) return;
    this.fitted = true;
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    this.map.fitBounds(
      [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ],
      { padding: 24, maxZoom: 16, animate: false },
    );
  }

  /** One HTML button per ticket or cluster in view; kept, not rebuilt, when it stays. */
  private syncMarkers(): void {
    const seen = new Map<string, MapGeoJSONFeature>();
    // What is drawn now: the source's cache also holds tiles (and clusters) of the zoom just left.
    for (const feature of this.map.queryRenderedFeatures({ layers: ['tickets-hidden'] })) {
      const p = feature.properties as { cluster_id?: number; id?: string };
      const key = p.cluster_id !== undefined ? `cluster:${p.cluster_id}:${(feature.properties as { point_count: number }).point_count}` : `ticket:${p.id}`;
      seen.set(key, feature);
    }
    for (const [key, marker] of this.markers) {
      if (!seen.has(key)) {
        marker.remove();
        this.markers.delete(key);
      }
    }
    for (const [key, feature] of seen) {
      if (this.markers.has(key)) continue;
      const [lon, lat] = (feature.geometry as GeoJSON.Point).coordinates as [number, number];
      const marker = new Marker({ element: this.button(feature) }).setLngLat([lon, lat]).addTo(this.map);
      this.markers.set(key, marker);
    }
    this.box.dataset.markers = String(this.markers.size);
  }

  private button(feature: MapGeoJSONFeature): HTMLElement {
    const p = feature.properties as { cluster_id?: number; point_count?: number; id?: string; number?: string; status?: string };
    if (p.cluster_id !== undefined) {
      const button = el(
        'button',
        {
          type: 'button',
          class: 'map-cluster',
          'data-cluster': p.point_count,
          'aria-label': `${p.point_count} tickets here: zoom in 此处${p.point_count}件，放大`,
        },
        String(p.point_count),
      );
      button.addEventListener('click', async (event) => {
        event.stopPropagation();
        const source = this.map.getSource('tickets') as GeoJSONSource;
        const zoom = await source.getClusterExpansionZoom(p.cluster_id!);
        this.map.easeTo({ center: (feature.geometry as GeoJSON.Point).coordinates as [number, number], zoom });
      });
      return button;
    }
    const [lon, lat] = (feature.geometry as GeoJSON.Point).coordinates as [number, number];
    const button = el('button', {
      type: 'button',
      class: 'map-ticket',
      'data-map-ticket': p.id,
      'data-lonlat': `${lon},${lat}`,
      'aria-label': `Open ticket ${p.number} 打开案件`,
    });
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      this.open(p.id!);
    });
    return button;
  }
}
