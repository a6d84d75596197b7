import { ROLE_GROUPS } from '@civicloop/model';
import { AuthenticationError, CivicLoop, type Ticket, type Zone } from '@civicloop/sdk';
import { displayCrsOf, readFigures, readFirstScreen, readRecentlyClosed, type BoardTicket, type Panel } from '../first-screen.js';
import { AlertPanel } from './alerts.js';
import { VehicleCamera } from './camera.js';
import { drawBlackSpots } from './blackspots.js';
import { Board } from './board.js';
import { explain, type ConsoleContext } from './context.js';
import { TicketDetail } from './detail.js';
import { el } from './dom.js';
import { matches, NO_FILTER, type BoardFilter, type ZoneShape } from './filters.js';
import { drawKpis } from './kpis.js';
import { categoryNamer, CHANNEL_LABEL, clockTime, OPEN_STATES, STATE_LABEL, useTimeZone } from './labels.js';
import { MapWhenReady, OutlineMap, type ConsoleMap, type ZoneOutline } from './map.js';
import { serverFirstScreen, token } from './session.js';
import { VERIFIES, VerifyQueue } from './verify-queue.js';

// The command centre's console: everything through the SDK, live over its event streams.
// Where the gateway is comes with the page itself (one round trip fewer before anything shows).
const { gatewayUrl, publishableKey } = document.body.dataset as { gatewayUrl: string; publishableKey: string };
const client = new CivicLoop({ baseUrl: gatewayUrl, apiKey: publishableKey, token });

// ---- Live or not: said plainly, in the header --------------------------------------------------
const liveBadge = document.getElementById('live')!;
const LIVE_TEXT = {
  live: 'Live 实时',
  reconnecting: 'Not live: reconnecting… 未连接，重连中',
  'signed-out': 'Not live: sign in again 未连接：请重新登录',
} as const;
const streamsUp = new Set<string>();
function showLive(state: keyof typeof LIVE_TEXT): void {
  if (liveBadge.dataset.state === state) return;
  liveBadge.dataset.state = state;
  liveBadge.textContent = LIVE_TEXT[state];
}
const streamState = (name: string) => ({
  onOpen: () => {
    streamsUp.add(name);
    if (streamsUp.size === 2) showLive('live');
  },
  onDisconnect: (error: unknown) => {
    streamsUp.delete(name);
    showLive(error instanceof AuthenticationError ? 'signed-out' : 'reconnecting');
  },
});

// ---- What the first screen shows -------------------------------------------------------------
// Every point is read in the tenant's display system (policy.defaultCrs), so a map drawn over
// Chinese (GCJ-02, BD-09) tiles puts them where its streets are. The console's server reads it all
// while this script loads (the page preloads it, same origin, no CORS preflight): nothing waits
// for a gateway request before the board draws. Read here, the same way, only when it could not.
const first = (await serverFirstScreen()) ?? (await readFirstScreen(client));
const { me, catalogue, units, staff } = first;
const displayCrs = displayCrsOf(me);
useTimeZone(me.tenant.policy.timeZone);
document.getElementById('operator')!.textContent = `${me.actor.name ?? me.actor.sub} · ${me.actor.role}`;
const categoryName = categoryNamer(catalogue);
const categoriesByCode = new Map(catalogue.categories.map((c) => [c.code, c]));
const zones = new Map<string, ZoneShape>();
/** The zones as they are now (at start, and after the admin changes them): the map and the zone filter follow. */
function showZones(list: readonly Zone[]): void {
  const outlines = list.map(
    (zone): ZoneOutline => ({
      id: zone.id,
      name: zone.name,
      rings: (zone.geometry.type === 'Polygon' ? [zone.geometry.coordinates] : zone.geometry.coordinates) as [number, number][][][],
    }),
  );
  zones.clear();
  for (const outline of outlines) zones.set(outline.id, outline);
  map.setZones(outlines);
  const zoneFilter = document.getElementById('filter-zone') as HTMLSelectElement | null;
  if (zoneFilter) {
    const chosen = zoneFilter.value;
    zoneFilter.replaceChildren(el('option', { value: '' }, 'Any 全部'), ...list.map((z) => el('option', { value: z.id }, z.name)));
    zoneFilter.value = list.some((z) => z.id === chosen) ? chosen : '';
  }
}

const tickets = new Map<string, BoardTicket>();
// Dispatchers and admins confirm the alarms a terminal holds until confirmed (an SOS above all),
// and ask a vehicle's camera for a photo.
const manages = (ROLE_GROUPS.managers as readonly string[]).includes(me.actor.role);
const alerts = new AlertPanel(
  manages
    ? async (deviceId, alarm) => {
        await client.devices.confirmAlarms(deviceId, [alarm]);
      }
    : undefined,
  me.actor.name ?? me.actor.sub,
  new VehicleCamera(client, manages),
);
let filter: BoardFilter = { ...NO_FILTER };
const shown = () => [...tickets.values()].filter((t) => matches(t, filter, zones, Date.now()));

const ctx: ConsoleContext = {
  client,
  actor: me.actor,
  displayCrs,
  categoryName,
  categoryOf: (code) => categoriesByCode.get(code),
  units,
  staff,
  changed: (ticket) => take(ticket),
};
const detail = new TicketDetail(ctx);
const map = new MapWhenReady(startMap());

// A panel that cannot load says why, with the code; the board still shows and stays live.
const say = (panel: string, title: string, reason: string) => {
  document.getElementById(panel)!.replaceChildren(el('h2', {}, title), el('p', { class: 'error' }, reason));
};
const orSay = (panel: string, title: string) => (error: unknown) => say(panel, title, explain(error));
/** A side panel read with the first screen: drawn, or its reason in its place. */
function drawPanel<T>(read: Panel<T>, draw: (value: T) => void, panel: string, title: string): void {
  if ('value' in read) draw(read.value);
  else say(panel, title, read.error);
}
const board = new Board(document.getElementById('columns')!, categoryName, (id) => void detail.show(id));
// Supervisors (and admins) get the verify queue above the board; others have nothing to verify.
const verifyRoot = document.getElementById('verify')!;
const verifyQueue = VERIFIES.has(me.actor.role) ? new VerifyQueue(verifyRoot, ctx, (id) => void detail.show(id)) : undefined;
verifyRoot.hidden = !verifyQueue;

function redraw(): void {
  const visible = shown();
  board.render(visible, Date.now());
  verifyQueue?.render(tickets.values());
  map.setTickets(visible);
  document.getElementById('shown')!.textContent = filterIsEmpty() ? `${tickets.size} open 在办` : `${visible.length} of ${tickets.size} open shown 筛选显示`;
}
/** A ticket's newest version: on the board while open, off it once closed, rejected or merged. */
function take(ticket: Ticket): void {
  if ((OPEN_STATES as readonly string[]).includes(ticket.status)) tickets.set(ticket.id, ticket);
  else tickets.delete(ticket.id);
  redraw();
  refreshKpisSoon();
  if (ticket.status === 'closed') refreshFollowUpsSoon();
}

// ---- The map: the command centre's tiles when configured, else the district outline -------------
async function startMap(): Promise<ConsoleMap> {
  const styleUrl = document.body.dataset.mapStyle;
  if (!styleUrl) return new OutlineMap(displayCrs);
  try {
    // MapLibre (and its worker) load only when there are tiles to draw; the board does not wait for them.
    const { TiledMap } = await import('./tiled-map.js');
    return await TiledMap.start(styleUrl, displayCrs, (id) => void detail.show(id));
  } catch (error) {
    return new OutlineMap(
      displayCrs,
      `The tiled map could not start (${error instanceof Error ? error.message : String(error)}); showing the outline. 地图无法加载，显示轮廓图。`,
    );
  }
}

// ---- Find and filter -------------------------------------------------------------------------
const filterIsEmpty = () => JSON.stringify(filter) === JSON.stringify(NO_FILTER);
const form = document.getElementById('filters') as HTMLFormElement;
const select = (name: keyof BoardFilter, label: string, options: [string, string][]) => {
  const control = el(
    'select',
    { id: `filter-${name}`, name },
    el('option', { value: '' }, 'Any 全部'),
    ...options.map(([value, text]) => el('option', { value }, text)),
  );
  return el('div', { class: 'field' }, el('label', { for: control.id }, label), control);
};
const search = el('input', { id: 'filter-text', name: 'text', type: 'search', placeholder: 'DEMO-20261202-0001', autocomplete: 'off' });
const overdue = el('input', { id: 'filter-overdueOnly', name: 'overdueOnly', type: 'checkbox' });
const found = el('p', { id: 'find-result', role: 'status' });
form.append(
  el('div', { class: 'field' }, el('label', { for: search.id }, 'Number or text 编号或内容'), search),
  select(
    'unit',
    'Unit 单位',
    units.map((u) => [u.id, u.name]),
  ),
  // Its zones come with showZones, once they are read.
  select('zone', 'Zone 区域', []),
  select(
    'category',
    'Category 类别',
    catalogue.categories.map((c) => [c.code, categoryName(c.code)]),
  ),
  select('channel', 'Channel 来源', Object.entries(CHANNEL_LABEL)),
  select(
    'state',
    'State 状态',
    OPEN_STATES.map((s) => [s, STATE_LABEL[s]]),
  ),
  el('div', { class: 'field check' }, overdue, el('label', { for: overdue.id }, 'Overdue only 仅超时')),
  el('button', { type: 'reset' }, 'Clear 清除'),
  el('button', { type: 'submit' }, 'Find number 按编号查找'),
  found,
);
const readFilter = (): BoardFilter => {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '');
  return {
    text: text('text'),
    unit: text('unit'),
    zone: text('zone'),
    category: text('category'),
    channel: text('channel'),
    state: text('state'),
    overdueOnly: overdue.checked,
  };
};
form.addEventListener('input', () => {
  filter = readFilter();
  redraw();
});
form.addEventListener('reset', () =>
  queueMicrotask(() => {
    filter = { ...NO_FILTER };
    found.textContent = '';
    redraw();
  }),
);
// A hotline callback quotes a number: open that ticket, whatever its state.
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const number = search.value.trim().toUpperCase();
  if (!number) return;
  const open = [...tickets.values()].find((t) => t.number === number);
  if (open) {
    found.textContent = '';
    void detail.show(open.id);
    return;
  }
  client.tickets.getByNumber(number).then(
    (ticket) => {
      found.textContent = '';
      void detail.show(ticket.id);
    },
    (error: unknown) => {
      found.textContent = `${number}: ${explain(error)}`;
    },
  );
});

// ---- Follow-ups: closed tickets whose reporter has not rated yet, to phone -----------------------
function drawFollowUps(recentlyClosed: Ticket[]): void {
  const due = recentlyClosed.filter((t) => !t.feedback || (t.closedAt !== undefined && t.feedback.at < t.closedAt));
  const box = document.getElementById('followups')!;
  box.replaceChildren(
    el('h2', {}, `Follow-ups to call 待回访 (${due.length})`),
    due.length === 0
      ? el('p', { class: 'muted' }, 'Every recently closed ticket is rated. 近期结案均已评价。')
      : el(
          'ol',
          {},
          ...due.map((t) => {
            const button = el('button', { type: 'button', 'data-followup': t.id }, `${t.number} ${categoryName(t.category)}`);
            button.addEventListener('click', () => void detail.show(t.id));
            return el('li', {}, button, ` closed ${t.closedAt ? clockTime(t.closedAt) : ''}`);
          }),
        ),
  );
}

// ---- Live ---------------------------------------------------------------------------------------
const later = (work: () => Promise<void>, ms: number) => {
  let timer: number | undefined;
  return () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void work().catch(() => undefined), ms);
  };
};
const refreshKpisSoon = later(async () => drawKpis(await readFigures(client, me.tenant.policy.timeZone), tickets.size, me.tenant.policy.timeZone), 500);
const refreshFollowUpsSoon = later(async () => drawFollowUps(await readRecentlyClosed(client, displayCrs)), 500);

async function followTicketsAndAlerts(): Promise<void> {
  // From where the first screen was read: what changed since then (while the page loaded) comes too.
  for await (const message of client.subscribeAll({ ...streamState('tickets'), lastEventId: first.lastEventId })) {
    if (message.kind === 'device') {
      alerts.add(message.streamId, message.alert);
      continue;
    }
    const id = message.event.event.ticketId;
    const ticket = await client.tickets.get(id, { crs: displayCrs });
    const known = tickets.get(id);
    if (!known || known.version < ticket.version || !(OPEN_STATES as readonly string[]).includes(ticket.status)) take(ticket);
    void detail.refresh(id);
  }
}

async function followFleet(): Promise<void> {
  for await (const feature of client.fleet.positions({ throttleMs: 2000, crs: displayCrs }, streamState('fleet'))) map.moveDevice(feature);
}

// The clock each second; the cards' ages and countdowns, which read in minutes, every ten seconds
// (text only): with thousands of cards, rewriting them every second would keep a phone busy.
const clock = document.getElementById('clock')!;
// Made at the first tick, not while the page starts: a formatter costs tens of milliseconds on a slow phone.
let clockFormat: Intl.DateTimeFormat | undefined;
setInterval(() => {
  clockFormat ??= new Intl.DateTimeFormat('zh-CN', {
    timeZone: me.tenant.policy.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  clock.textContent = clockFormat.format(new Date());
}, 1000);
setInterval(() => board.tick(Date.now()), 10_000);

for (const ticket of first.open) tickets.set(ticket.id, ticket);
showZones(first.zones);
for (const feature of first.fleet.features) map.moveDevice(feature);
redraw();
map.draw();
alerts.seed('value' in first.alerts ? first.alerts.value : first.alerts);
drawPanel(first.figures, (figures) => drawKpis(figures, tickets.size, me.tenant.policy.timeZone), 'kpis', 'Today 今日');
drawPanel(first.blackSpots, drawBlackSpots, 'blackspots', 'Black spots 黑点');
drawPanel(first.recentlyClosed, drawFollowUps, 'followups', 'Follow-ups to call 待回访');
document.body.dataset.ready = 'true';
// The moment the board, map, figures and side panels are drawn: what bench:console measures.
performance.mark('console-ready');
// A stream stops only when it cannot authenticate: then the console says it is not live.
void followTicketsAndAlerts().catch(() => showLive('signed-out'));
void followFleet().catch(() => showLive('signed-out'));
// Admins manage units, staff, devices, provisioning profiles and zones below the board; those
// pages (and the QR code maker) load after the board.
if (me.actor.role === 'admin') {
  const directoryRoot = document.getElementById('directory')!;
  const devicesRoot = document.getElementById('devices')!;
  directoryRoot.hidden = devicesRoot.hidden = false;
  void import('./directory-admin.js')
    .then(({ DirectoryAdmin }) => new DirectoryAdmin(directoryRoot, ctx).draw())
    .catch(orSay('directory', 'Units and staff 单位与人员'));
  void import('./devices-admin.js')
    .then(({ DevicesAdmin }) => new DevicesAdmin(devicesRoot, ctx, gatewayUrl, me.tenant.id).draw())
    .catch(orSay('devices', 'Devices 设备管理'));
  const provisioningRoot = document.getElementById('provisioning')!;
  provisioningRoot.hidden = false;
  void import('./provisioning-admin.js')
    .then(({ ProvisioningAdmin }) => new ProvisioningAdmin(provisioningRoot, ctx, gatewayUrl).draw())
    .catch(orSay('provisioning', 'Provisioning 设备自动注册'));
  const zonesRoot = document.getElementById('zones-admin')!;
  zonesRoot.hidden = false;
  void import('./zones-admin.js').then(({ ZonesAdmin }) => new ZonesAdmin(zonesRoot, ctx, map, showZones).draw()).catch(orSay('zones-admin', 'Zones 区域管理'));
}
setInterval(() => void client.blackSpots({ status: 'open' }).then(drawBlackSpots, () => undefined), 60_000);
