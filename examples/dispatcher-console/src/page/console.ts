import { AuthenticationError, CivicLoop, ConnectionError, type CrsName, type DeviceAlert, type GeoJsonFeature, type Ticket } from '@civicloop/sdk';

// The dispatcher's console: everything through the SDK, live over its event streams.
const STATES = ['reported', 'dispatched', 'accepted', 'on_site', 'resolved', 'rework'] as const;
const LABELS: Record<(typeof STATES)[number], string> = { reported: 'Queue 待派', dispatched: 'Dispatched 已派', accepted: 'Accepted 已接', on_site: 'On site 到场', resolved: 'Resolved 待核', rework: 'Rework 返工' };
const SVG = 'http://www.w3.org/2000/svg';

type Attrs = Record<string, string | number | undefined>;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}
function svg(tag: string, attrs: Attrs = {}, ...children: Node[]): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

const config = (await (await fetch('/config.json')).json()) as { gatewayUrl: string; publishableKey: string };

// ---- Sign-in: a dispatcher token from the console's server, renewed before it expires ---------
let held: { token: string; exp: number; lifetime: number } | undefined;
async function token(): Promise<string> {
  const now = Date.now() / 1000;
  // Renewed once two thirds of its life are gone, so a slow request never carries an expired one.
  if (held && held.exp - now > held.lifetime / 3) return held.token;
  let response: Response;
  try {
    response = await fetch('/token.json', { cache: 'no-store' });
  } catch (error) {
    // The console's own server is out of reach: not live for now, but not signed out (the SDK
    // retries a ConnectionError; any other getToken failure means "sign in again").
    throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: 'the console\'s sign-in could not be reached', status: 0, retryable: true }, { cause: error });
  }
  if (!response.ok) throw new Error(`the console's sign-in answered ${response.status}`);
  const fresh = ((await response.json()) as { token: string }).token;
  const claims = JSON.parse(atob(fresh.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { iat: number; exp: number };
  held = { token: fresh, exp: claims.exp, lifetime: claims.exp - claims.iat };
  return fresh;
}
const client = new CivicLoop({ baseUrl: config.gatewayUrl, apiKey: config.publishableKey, token });

// ---- Live or not: said plainly, in the header --------------------------------------------------
const liveBadge = document.getElementById('live')!;
const LIVE_TEXT = { live: 'Live 实时', reconnecting: 'Not live: reconnecting… 未连接，重连中', 'signed-out': 'Not live: sign in again 未连接：请重新登录' } as const;
const streamsUp = new Set<string>();
function showLive(state: keyof typeof LIVE_TEXT): void {
  if (liveBadge.dataset.state === state) return;
  liveBadge.dataset.state = state;
  liveBadge.textContent = LIVE_TEXT[state];
}
function streamState(name: string) {
  return {
    onOpen: () => {
      streamsUp.add(name);
      if (streamsUp.size === 2) showLive('live');
    },
    onDisconnect: (error: unknown) => {
      streamsUp.delete(name);
      showLive(error instanceof AuthenticationError ? 'signed-out' : 'reconnecting');
    },
  };
}
const tickets = new Map<string, Ticket>();
// Every point the console draws is read in the tenant's display system (policy.defaultCrs), so a
// map drawn over Chinese (GCJ-02, BD-09) tiles puts them where its streets are.
const me = await client.me();
const displayCrs: CrsName = me.tenant.policy.defaultCrs ?? 'wgs84';
const CRS_LABEL: Record<CrsName, string> = { wgs84: 'WGS-84 (GPS)', gcj02: 'GCJ-02 (AMap, Tencent, WeChat)', bd09: 'BD-09 (Baidu)' };
const today = () => new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });

// ---- Board ---------------------------------------------------------------------------------
const board = document.getElementById('board')!;
const columns = new Map(
  STATES.map((state) => {
    const list = el('ol', { 'aria-label': LABELS[state] });
    board.append(el('div', { class: 'column', 'data-state': state }, el('h3', {}, LABELS[state]), list));
    return [state, list] as const;
  }),
);

function countdown(ticket: Ticket): { text: string; overdue: boolean } {
  if (!ticket.sla) return { text: 'not dispatched', overdue: false };
  const left = Date.parse(ticket.sla.resolveBy) - Date.now();
  const minutes = Math.round(Math.abs(left) / 60_000);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes}m`;
  return left >= 0 ? { text: `${span} left`, overdue: false } : { text: `overdue ${span}`, overdue: true };
}

function drawBoard(): void {
  for (const [state, list] of columns) {
    const items = [...tickets.values()].filter((t) => t.status === state).sort((a, b) => (a.sla?.resolveBy ?? a.createdAt).localeCompare(b.sla?.resolveBy ?? b.createdAt));
    list.replaceChildren(
      ...items.map((t) => {
        const due = countdown(t);
        return el(
          'li',
          { class: `card${due.overdue ? ' overdue' : ''}`, 'data-ticket': t.id },
          el('div', { class: 'number' }, t.number),
          el('div', {}, t.category),
          el('div', { class: 'countdown' }, due.text),
          ...(t.escalationLevel ? [el('span', { class: 'escalation' }, `督办 ${t.escalationLevel}`)] : []),
        );
      }),
    );
  }
}

async function loadBoard(): Promise<void> {
  for await (const ticket of client.tickets.list({ status: STATES.join(','), limit: 200, crs: displayCrs })) tickets.set(ticket.id, ticket);
  drawBoard();
}

// ---- KPIs and chart -------------------------------------------------------------------------
const percent = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 100)}%`);
async function drawKpis(): Promise<void> {
  const [day] = (await client.stats({ from: today(), to: today() })).groups;
  const cards: [string, string][] = [
    ['Reported today', String(day?.created ?? 0)],
    ['Open now', String([...tickets.values()].length)],
    ['Completion', percent(day?.completionRate ?? null)],
    ['On time', percent(day?.onTimeCompletionRate ?? null)],
    ['Satisfaction', percent(day?.satisfactionRate ?? null)],
    ['Attendance', percent(day?.attendanceCoverage ?? null)],
    ['Vehicles online', percent(day?.vehicleOnlineRate ?? null)],
  ];
  document.getElementById('kpis')!.replaceChildren(...cards.map(([label, value]) => el('div', { class: 'kpi', 'data-kpi': label }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label))));
  const week = (await client.stats({ from: daysAgo(6), to: today(), by: 'day' })).groups;
  const byDay = new Map(week.map((g) => [g.key, g.created]));
  const days = Array.from({ length: 7 }, (_, i) => daysAgo(6 - i));
  const most = Math.max(1, ...days.map((d) => byDay.get(d) ?? 0));
  const chart = svg('svg', { viewBox: '0 0 350 120', role: 'img', 'aria-label': 'Tickets reported per day, last 7 days' });
  days.forEach((d, i) => {
    const h = ((byDay.get(d) ?? 0) / most) * 90;
    chart.append(svg('rect', { class: 'bar', x: 10 + i * 48, y: 100 - h, width: 36, height: h }));
    const label = svg('text', { class: 'bar-label', x: 10 + i * 48, y: 114 });
    label.textContent = `${d.slice(5)} ${byDay.get(d) ?? 0}`;
    chart.append(label);
  });
  document.getElementById('chart')!.replaceChildren(el('h2', {}, 'Reported, last 7 days'), chart);
}

// ---- Map: the district outline (zones), the fleet and open tickets, no tiles -------------------
const fleet = new Map<string, GeoJsonFeature>();
const pointOf = (f: GeoJsonFeature) => f.geometry.coordinates as unknown as [number, number];
let zonesOutline: [number, number][][] = [];
function drawMap(): void {
  const points: [number, number][] = [...zonesOutline.flat(), ...[...fleet.values()].map(pointOf), ...[...tickets.values()].map((t): [number, number] => [t.location.lon, t.location.lat])];
  const box = document.getElementById('map')!;
  if (points.length === 0) {
    box.replaceChildren(el('h2', {}, 'Fleet and tickets'), el('p', { class: 'muted' }, 'No zones, devices or tickets yet.'));
    return;
  }
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const scale = 300 / Math.max(east - west, north - south, 1e-4);
  const xy = ([lon, lat]: [number, number]) => [10 + (lon - west) * scale, 10 + (north - lat) * scale] as const;
  const map = svg('svg', { viewBox: `0 0 320 ${20 + (north - south) * scale}`, role: 'img', 'aria-label': 'Zones, vehicles, badges and open tickets' });
  for (const ring of zonesOutline) map.append(svg('path', { class: 'zone', d: `M${ring.map((p) => xy(p).join(',')).join('L')}Z` }));
  for (const t of tickets.values()) {
    const [x, y] = xy([t.location.lon, t.location.lat]);
    map.append(svg('circle', { class: 'ticket-dot', cx: x, cy: y, r: 3, 'data-ticket-dot': t.id, 'data-lonlat': `${t.location.lon},${t.location.lat}` }));
  }
  for (const f of fleet.values()) {
    const [x, y] = xy(pointOf(f));
    const kind = (f.properties as { kind?: string }).kind;
    map.append(kind === 'vehicle' ? svg('rect', { class: 'vehicle', x: x - 3, y: y - 3, width: 6, height: 6 }) : svg('circle', { class: 'badge', cx: x, cy: y, r: 3 }));
  }
  box.replaceChildren(el('h2', {}, 'Fleet and tickets'), map, el('p', { class: 'muted', 'data-crs': displayCrs }, `Coordinates: ${CRS_LABEL[displayCrs]}`));
}

async function loadMap(): Promise<void> {
  zonesOutline = (await client.zones.list({ crs: displayCrs })).flatMap((z) => (z.geometry.type === 'Polygon' ? [z.geometry.coordinates[0]!] : z.geometry.coordinates.map((p) => p[0]!))) as [number, number][][];
  for (const feature of (await client.fleet.live({ crs: displayCrs })).features) fleet.set(String((feature.properties as { deviceId: string }).deviceId), feature);
  drawMap();
}

// ---- Black spots ------------------------------------------------------------------------------
async function drawBlackSpots(): Promise<void> {
  const spots = await client.blackSpots({ status: 'open' });
  const box = document.getElementById('blackspots')!;
  box.replaceChildren(
    el('h2', {}, 'Black spots'),
    spots.length === 0
      ? el('p', { class: 'muted' }, 'No open black spots.')
      : el('table', {}, el('tr', {}, el('th', {}, 'Code'), el('th', {}, 'Since'), el('th', {}, 'Tickets')), ...spots.map((s) => el('tr', { 'data-spot': s.code }, el('td', {}, s.code), el('td', {}, s.openedAt.slice(0, 10)), el('td', {}, String(s.ticketsWhenOpened + s.ticketsSince))))),
  );
}

// ---- Live --------------------------------------------------------------------------------------
let kpiTimer: number | undefined;
const refreshKpisSoon = () => {
  clearTimeout(kpiTimer);
  kpiTimer = window.setTimeout(() => void drawKpis().catch(() => undefined), 500);
};

// ---- Alarms: SOS, falls, low batteries and vehicle alarms, newest first -------------------------
const ALERT_LABEL: Record<DeviceAlert['type'], string> = { sos: 'SOS 求救', fall: 'Fall 跌倒', low_battery: 'Low battery 低电量', alarm: 'Alarm 报警' };
const alerts: DeviceAlert[] = [];
const MAX_ALERTS_SHOWN = 20;
function drawAlerts(): void {
  const box = document.getElementById('alerts')!;
  const time = (iso: string) => new Date(iso).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai' });
  box.replaceChildren(
    el('h2', {}, 'Alarms 报警'),
    alerts.length === 0
      ? el('p', { class: 'muted' }, 'No alarms since the console opened.')
      : el(
          'ol',
          {},
          ...alerts.map((a) =>
            el(
              'li',
              { class: `alert alert-${a.type}`, 'data-alert': a.type, 'data-device': a.deviceId },
              el('strong', {}, a.type === 'alarm' && a.alarm ? `${ALERT_LABEL.alarm}: ${a.alarm.replace(/_/g, ' ')}` : ALERT_LABEL[a.type]),
              ` ${a.deviceName}${a.staffId ? ` (${a.staffId})` : ''} ${time(a.at)}`,
              ...(a.battery !== undefined ? [` ${a.battery}%`] : []),
              ...(a.ticketNumber ? [el('span', { class: 'alert-ticket' }, ` → ${a.ticketNumber}`)] : []),
            ),
          ),
        ),
  );
}

async function followTicketsAndAlerts(): Promise<void> {
  for await (const message of client.subscribeAll(streamState('tickets'))) {
    if (message.kind === 'device') {
      alerts.unshift(message.alert);
      alerts.length = Math.min(alerts.length, MAX_ALERTS_SHOWN);
      drawAlerts();
      continue;
    }
    const ticket = await client.tickets.get(message.event.event.ticketId, { crs: displayCrs });
    if ((STATES as readonly string[]).includes(ticket.status)) tickets.set(ticket.id, ticket);
    else tickets.delete(ticket.id);
    drawBoard();
    drawMap();
    refreshKpisSoon();
  }
}

async function followFleet(): Promise<void> {
  for await (const feature of client.fleet.positions({ throttleMs: 2000, crs: displayCrs }, streamState('fleet'))) {
    fleet.set(String((feature.properties as { deviceId: string }).deviceId), feature);
    drawMap();
  }
}

setInterval(() => {
  document.getElementById('clock')!.textContent = new Date().toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai' });
  drawBoard();
}, 1000);

await loadBoard();
drawAlerts();
await Promise.all([drawKpis(), loadMap(), drawBlackSpots()]);
document.body.dataset.ready = 'true';
// A stream stops only when it cannot authenticate: then the console says it is not live.
void followTicketsAndAlerts().catch(() => showLive('signed-out'));
void followFleet().catch(() => showLive('signed-out'));
setInterval(() => void drawBlackSpots().catch(() => undefined), 60_000);
