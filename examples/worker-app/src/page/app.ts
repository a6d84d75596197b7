import {
  AuthenticationError,
  CivicLoop,
  ConflictError,
  ConnectionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  type CategoryCatalogue,
  type StreamEvent,
  type Ticket,
} from '@civicloop/sdk';
import { PhoneBadge, type BadgeState } from './badge.js';
import { h } from './dom.js';
import { currentLanguage, setLanguage, statusWord, t } from './i18n.js';
import { ALREADY_DONE, howTaken, isWorking, predictedStatus, TAKEN_BY, WORKING_STATES, type Taken } from './jobs.js';
import { JobCache, Outbox, type JobCommand, type QueuedAction, type SendOutcome } from './outbox.js';
import { adopt, refreshSession, rememberedWorker, SignedOut, token, type Worker } from './session.js';

// The worker's phone app: everything through the SDK; actions go through the outbox, so taking
// one is the same online and offline, and each reaches the gateway once.
const { gatewayUrl, publishableKey, deviceUrl } = document.body.dataset as { gatewayUrl: string; publishableKey: string; deviceUrl?: string };
// Few retries: the outbox keeps what could not be sent, and tries again when the phone is back online.
const client = new CivicLoop({ baseUrl: gatewayUrl, apiKey: publishableKey, token, maxRetries: 1, timeoutMs: 15_000 });
const outbox = new Outbox();
const cache = new JobCache<Ticket>();
const jobs = new Map<string, Ticket>();
let queued: QueuedAction[] = [];
let me: Worker;
let openJob: string | undefined;
let signedOut = false;

const $ = (id: string) => document.getElementById(id)!;
const list = $('jobs');
const detail = $('job');

// Installable and openable offline: the service worker keeps the app's own files.
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js').catch(() => undefined);

// ---- Settings kept on the phone: names, time zone ---------------------------------------------
type Tenant = { timeZone: string; arrivalMeters: number; names: Record<string, { 'zh-CN': string; en: string }> };
const TENANT_KEY = 'civicloop-worker-tenant';
let tenant: Tenant = JSON.parse(localStorage.getItem(TENANT_KEY) ?? 'null') ?? { timeZone: 'Asia/Shanghai', arrivalMeters: 30, names: {} };
/** A job's category by name: as it was reported (a tenant may have renamed it since), else the tenant's. */
const categoryName = (job: Pick<Ticket, 'category' | 'categoryAsReported'>) =>
  job.categoryAsReported?.name[currentLanguage()] ?? tenant.names[job.category]?.[currentLanguage()] ?? job.category;

async function loadTenant(): Promise<void> {
  const [who, catalogue] = await Promise.all([client.me(), client.catalogue.list({ all: true })]);
  tenant = {
    timeZone: who.tenant.policy.timeZone ?? 'Asia/Shanghai',
    arrivalMeters: tenant.arrivalMeters,
    names: Object.fromEntries((catalogue as CategoryCatalogue).categories.map((c) => [c.code, c.name])),
  };
  localStorage.setItem(TENANT_KEY, JSON.stringify(tenant));
}

// ---- Online or not, and the outbox, said in the header -----------------------------------------
function showNetwork(): void {
  const net = $('net');
  const state = signedOut ? 'signed-out' : navigator.onLine ? 'online' : 'offline';
  net.dataset.state = state;
  net.textContent = state === 'signed-out' ? t('signedOut') : state === 'online' ? t('online') : t('offline');
  const box = $('outbox');
  box.hidden = queued.length === 0;
  box.textContent = t('waiting', { n: queued.length });
}

/** Notices kept in the banner, newest first. */
const NOTICES_SHOWN = 3;

/**
 * Says something in the banner, above what it said before (the newest NOTICES_SHOWN lines): two
 * things that happen together are both read, such as a job given to someone else while the phone
 * was offline and the refusal of what the worker did on it meanwhile.
 */
function notice(text: string): void {
  const node = $('notice');
  const line = document.createElement('p');
  line.textContent = text;
  node.prepend(line);
  while (node.children.length > NOTICES_SHOWN) node.lastElementChild!.remove();
  node.hidden = false;
}

// ---- The list: my jobs by state, as they will be once the phone's actions are sent ---------------
function drawList(): void {
  const sections = WORKING_STATES.map((state) => {
    const mine = [...jobs.values()]
      .filter((job) => predictedStatus(job, queued) === state)
      .sort((a, b) => (a.sla?.resolveBy ?? a.createdAt).localeCompare(b.sla?.resolveBy ?? b.createdAt));
    const title = { dispatched: t('sectionNew'), accepted: t('sectionAccepted'), on_site: t('sectionOnSite'), rework: t('sectionRework') }[state];
    return h(
      'section',
      { 'data-state': state, 'aria-labelledby': `list-${state}` },
      h('h2', { id: `list-${state}` }, `${title} (${mine.length})`),
      mine.length
        ? h(
            'ul',
            {},
            ...mine.map((job) => {
              const waiting = queued.filter((a) => a.ticketId === job.id).length;
              const item = h(
                'button',
                { type: 'button', class: 'job', 'data-ticket': job.id },
                h('strong', {}, categoryName(job)),
                h('span', {}, job.description.slice(0, 80)),
                h('small', {}, job.number, waiting ? ` · ${waiting} ${t('pending')}` : ''),
              );
              item.addEventListener('click', () => open(job.id));
              return h('li', {}, item);
            }),
          )
        : h('p', { class: 'muted' }, t('none')),
    );
  });
  list.replaceChildren(...sections);
}

let jobView: typeof import('./job-view.js') | undefined;
const loadJobView = async () => (jobView ??= await import('./job-view.js'));

function open(id: string | undefined): void {
  openJob = id;
  const job = id ? jobs.get(id) : undefined;
  if (!job) {
    openJob = undefined;
    detail.hidden = true;
    list.hidden = false;
    drawList();
    return;
  }
  list.hidden = true;
  detail.hidden = false;
  if (!jobView) {
    // The job screen (and the photo checks) load after the list is up; a tap before then waits for them.
    void loadJobView().then(() => openJob === id && open(id));
    return;
  }
  jobView.renderJob(
    detail,
    job,
    predictedStatus(job, queued),
    queued.filter((a) => a.ticketId === id),
    {
      categoryName,
      photoUrl: (photo) => client.media.url(photo),
      timeZone: tenant.timeZone,
      arrivalMeters: tenant.arrivalMeters,
      act,
      back: () => open(undefined),
    },
  );
  detail.querySelector('h2')?.setAttribute('tabindex', '-1');
  (detail.querySelector('h2') as HTMLElement | null)?.focus();
}

function redraw(): void {
  showNetwork();
  if (openJob) {
    // The open job is drawn again only when its state or its waiting actions changed: a half-written
    // note or a chosen photo survives the live updates of other jobs.
    const job = jobs.get(openJob);
    const shown = detail.querySelector<HTMLElement>('.state')?.dataset;
    if (job && shown && shown.status === predictedStatus(job, queued) && shown.waiting === String(queued.filter((a) => a.ticketId === openJob).length)) return;
    const result = detail.querySelector('.result')?.textContent ?? '';
    open(openJob);
    const line = detail.querySelector('.result');
    if (line) line.textContent = result;
  } else drawList();
}

function say(text: string): void {
  const line = detail.hidden ? null : detail.querySelector('.result');
  if (line) line.textContent = text;
  else notice(text);
}

// ---- Taking an action: into the outbox, then sent if the phone is online ------------------------
/** The steps whose time counts (on-time rates, the ticket's acceptedAt, arrivedAt, resolvedAt): sent with when they were taken. */
const DATED_STEPS: ReadonlySet<JobCommand> = new Set(['accept', 'arrive', 'resolve']);

async function act(ticket: Ticket, command: JobCommand, body: Record<string, unknown>, photo?: Blob): Promise<void> {
  // Taken offline and sent later, the step still counts when it was done.
  const dated = DATED_STEPS.has(command) ? { ...body, occurredAt: new Date().toISOString() } : body;
  await outbox.add({ owner: me.id, ticketId: ticket.id, ticketNumber: ticket.number, command, body: dated, ...(photo ? { photo } : {}) });
  queued = await outbox.pending(me.id);
  const state = navigator.onLine ? t('sending') : t('queued');
  if (isWorking(predictedStatus(ticket, queued))) {
    redraw();
    say(state);
  } else {
    // Resolved or returned: the job leaves the list, and the worker is back at it.
    open(undefined);
    showNetwork();
    notice(`${ticket.number}: ${state}`);
  }
  await flush();
}

/** An error as a person reads it: the gateway's message, then its stable code to quote. */
const explain = (error: Error) => ('code' in error && typeof error.code === 'string' ? `${error.message} (${error.code})` : error.message);

const mayPass = (error: unknown) =>
  error instanceof ConnectionError ||
  error instanceof TimeoutError ||
  error instanceof RateLimitError ||
  error instanceof ServerError ||
  error instanceof AuthenticationError ||
  error instanceof SignedOut;

async function send(action: QueuedAction): Promise<SendOutcome> {
  let body = action.body;
  if (action.command === 'resolve') {
    if (!action.photoRef) {
      action.photoRef = (await client.media.upload(action.photo!, 'after.jpg')).ref;
      await outbox.update(action);
    }
    body = { ...body, photos: [{ ref: action.photoRef }] };
  }
  try {
    const { ticket } = await client.tickets.command(action.ticketId, action.command as never, body as never, { idempotencyKey: action.key });
    keep(ticket);
    return 'sent';
  } catch (error) {
    // Already where the action would take it (the badge's positions marked the arrival, say).
    if (error instanceof ConflictError && error.code === 'CL_ERR_INVALID_TRANSITION') {
      const now = await client.tickets.get(action.ticketId);
      if (now.assigneeId === me.id && ALREADY_DONE[action.command]?.includes(now.status)) {
        keep(now);
        return 'already';
      }
    }
    throw error;
  }
}

async function flush(): Promise<void> {
  if (!me || !navigator.onLine) return;
  await outbox
    .flush(me.id, send, mayPass, (result) => {
      if ('error' in result) {
        // Said in the banner with the job's number (the job may have left the screen), and under the job when it is open.
        const why = explain(result.error);
        notice(`${result.action.ticketNumber}: ${t('refused', { why })}`);
        if (openJob === result.action.ticketId) say(t('refused', { why }));
      } else if (result.outcome === 'already') say(t('alreadyDone', { what: statusWord(jobs.get(result.action.ticketId)?.status ?? 'on_site') }));
      else say(t('done'));
    })
    .catch((error: unknown) => {
      if (error instanceof SignedOut) signedOut = true;
    });
  queued = await outbox.pending(me.id);
  redraw();
  void cache.write(me.id, [...jobs.values()]);
}

/** A job as the gateway has it now: kept while it is the worker's to work, dropped when not. */
function keep(ticket: Ticket): void {
  const mine = ticket.assigneeId === me.id || (!ticket.assigneeId && ticket.status === 'dispatched' && ticket.unitId === me.unitId);
  if (mine && (isWorking(ticket.status) || queued.some((a) => a.ticketId === ticket.id))) jobs.set(ticket.id, ticket);
  else jobs.delete(ticket.id);
}

async function loadJobs(): Promise<void> {
  const [assigned, claimable] = await Promise.all([
    client.tickets.list({ assigneeId: me.id, status: [...WORKING_STATES], limit: 200 }),
    me.unitId ? client.tickets.list({ unitId: me.unitId, status: 'dispatched', limit: 200 }) : Promise.resolve({ items: [] as Ticket[] }),
  ]);
  await adoptJobs([...assigned.items, ...claimable.items.filter((ticket) => !ticket.assigneeId)]);
}

/** Saying how the jobs gone from the latest list were taken: done once that promise settles. */
let goneJobsSaid = Promise.resolve();

/** The worker's jobs as the gateway listed them now. */
async function adoptJobs(fresh: Ticket[]): Promise<void> {
  const hadMine = [...jobs.values()].filter((job) => job.assigneeId === me.id);
  // Jobs with actions still on the phone stay, whatever the list says.
  for (const [id] of jobs) if (!queued.some((a) => a.ticketId === id)) jobs.delete(id);
  for (const ticket of fresh) keep(ticket);
  goneJobsSaid = sayWhyGone(hadMine.filter((job) => !jobs.has(job.id)));
  // Synchronously up to here: the jobs are in place before anything is drawn.
  await cache.write(me.id, [...jobs.values()]);
  // Loaded now, the jobs' photos are kept by the service worker for when there is no network on site.
  for (const job of jobs.values()) for (const photo of job.photos) new Image().src = client.media.url(photo);
}

/**
 * Jobs of the worker's that left the list with no event heard (taken while the phone was offline
 * and the list came back before the stream's replay, or while the app was closed): how they were
 * taken, read from each one's history, is said as the stream would have said it. Each job is
 * looked at once: it is no longer among the jobs, here or in the stream's handler.
 */
async function sayWhyGone(gone: Ticket[]): Promise<void> {
  for (const job of gone) {
    const history = await client.tickets.history(job.id).catch(() => undefined);
    const taken = history && howTaken(history, me.id);
    if (taken) announce(job, taken);
  }
}

// ---- Live: a job dispatched to me is announced; a change to one of mine is shown ----------------
async function listen(): Promise<void> {
  for await (const { event } of client.subscribe({
    onOpen: () =>
      void loadJobs()
        .then(redraw)
        .catch(() => undefined),
  }) as AsyncIterable<StreamEvent>) {
    const toMe =
      (event.type === 'dispatched' || event.type === 'reassigned' || event.type === 'reopened' || event.type === 'rework_requested') &&
      (event.data?.assigneeId === me.id || jobs.has(event.ticketId));
    if (!toMe && !jobs.has(event.ticketId)) continue;
    const ticket = await client.tickets.get(event.ticketId).catch(() => undefined);
    if (!ticket) continue;
    const before = jobs.get(ticket.id);
    keep(ticket);
    const taken = TAKEN_BY[event.type];
    if (!before && ticket.assigneeId === me.id) announce(ticket, 'newJob');
    else if (event.type === 'rework_requested') announce(ticket, 'newJob');
    else if (event.type === 'urged' && ticket.assigneeId === me.id) announce(ticket, 'urgedJob');
    // Someone else took the worker's job away (their own return they know of): said, so that
    // they do not walk to it; an open job goes back to the list.
    else if (taken && before?.assigneeId === me.id && !jobs.has(ticket.id) && event.actor.sub !== me.id) announce(ticket, taken);
    redraw();
    // Kept as shown: a job announced as taken is not announced again when the app next opens.
    void cache.write(me.id, [...jobs.values()]);
  }
}

function announce(ticket: Ticket, what: 'newJob' | 'urgedJob' | Taken): void {
  const text = t(what, { what: `${categoryName(ticket)} ${ticket.number}` });
  notice(text);
  navigator.vibrate?.([200, 100, 200]);
  // A system notification too when the worker allowed them (asked when checking in); tapping it opens the job.
  if ('Notification' in window && Notification.permission === 'granted') {
    void navigator.serviceWorker?.ready
      .then((registration) => registration.showNotification(t('title'), { body: text, tag: ticket.id, data: { ticket: ticket.id } }))
      .catch(() => undefined);
  }
}

// ---- The phone as the worker's badge -----------------------------------------------------------
function drawDuty(badge: PhoneBadge | undefined, state: BadgeState, force = false): void {
  const duty = $('duty');
  if (!badge) return void duty.replaceChildren();
  // Each position reports the state again: the bar is drawn only when it changes.
  const drawn = `${state}|${badge.onDuty}`;
  if (!force && duty.dataset.drawn === drawn) return;
  duty.dataset.drawn = drawn;
  const toggle = h('button', { type: 'button', class: 'secondary', id: 'duty-toggle' }, badge.onDuty ? t('checkOut') : t('checkIn'));
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    if (badge.onDuty) await badge.checkOut();
    else {
      if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
      await badge.checkIn().catch((error: unknown) => notice(String(error)));
    }
  });
  duty.replaceChildren(h('span', { 'data-duty': state }, state === 'no-location' ? t('noLocation') : badge.onDuty ? t('onDuty') : t('offDuty')), toggle);
}

// ---- Start --------------------------------------------------------------------------------------
function drawChrome(): void {
  $('title').textContent = t('title');
  document.title = `${t('title')} · CivicLoop`;
  $('lang').textContent = t('switchTo');
  $('lang').setAttribute('lang', currentLanguage() === 'en' ? 'zh-CN' : 'en');
  $('who').textContent = me.name;
}

$('lang').addEventListener('click', () => {
  setLanguage(currentLanguage() === 'en' ? 'zh-CN' : 'en');
  drawChrome();
  drawDuty(badge, badge?.onDuty ? 'on-duty' : 'off-duty', true);
  redraw();
});
window.addEventListener('online', () => {
  showNetwork();
  void flush()
    .then(() => loadJobs())
    .then(redraw)
    .catch(() => undefined);
});
window.addEventListener('offline', showNetwork);
// A notification tapped while the app is open: show that job.
navigator.serviceWorker?.addEventListener('message', (message: MessageEvent<{ open?: string }>) => {
  if (message.data?.open) open(message.data.open);
});

let badge: PhoneBadge | undefined;
// Served online, the page brings the worker's first screen (session, names, jobs); opened offline
// from the service worker it does not, and the app starts from what it kept.
const bootstrap = JSON.parse(document.getElementById('bootstrap')?.textContent ?? 'null') as {
  token: string;
  worker: Worker;
  tenant?: Tenant;
  jobs?: Ticket[];
} | null;
if (bootstrap) {
  me = adopt(bootstrap.token, bootstrap.worker);
  if (bootstrap.tenant) {
    tenant = { ...tenant, ...bootstrap.tenant };
    localStorage.setItem(TENANT_KEY, JSON.stringify(tenant));
  }
} else {
  try {
    me = await refreshSession();
  } catch (error) {
    const remembered = rememberedWorker();
    if (error instanceof SignedOut || !remembered) {
      if (error instanceof SignedOut && error.signIn) location.assign(error.signIn);
      else list.replaceChildren(h('p', { role: 'alert' }, t(error instanceof SignedOut ? 'signedOut' : 'offline')));
      throw error;
    }
    me = remembered;
  }
}
drawChrome();
// The jobs that came with the page are fresher than those kept on the phone, which are drawn only
// when the page came without them (opened offline), and otherwise read to tell the worker of a job
// taken from them while the app was closed. IndexedDB is slow to open on a slow phone
// (0.4 s measured on a fresh profile with the CPU throttled 4x): the jobs that came are drawn
// at once, and drawn again as the actions still on the phone would leave them once those are read.
const pending = outbox.pending(me.id);
if (bootstrap?.jobs) {
  for (const ticket of bootstrap.jobs) keep(ticket);
  void Promise.all([pending, cache.read(me.id)]).then(([waiting, kept]) => {
    queued = waiting;
    // The jobs the phone had when the app last closed: one taken from the worker since is said.
    for (const ticket of kept ?? []) if (!jobs.has(ticket.id)) jobs.set(ticket.id, ticket);
    void adoptJobs(bootstrap.jobs!);
    // Marked when that is said (or there was nothing to say): tests wait for it before finding the banner empty.
    void goneJobsSaid.then(() => performance.mark('worker-app-kept-jobs-compared'));
    redraw();
  });
} else {
  const [waiting, kept] = await Promise.all([pending, cache.read(me.id)]);
  queued = waiting;
  for (const ticket of kept ?? []) jobs.set(ticket.id, ticket);
}
redraw();
if (deviceUrl) {
  badge = new PhoneBadge(me.id, (state) => drawDuty(badge, state));
  void badge.resume().catch(() => undefined);
}
if (!bootstrap?.jobs) {
  try {
    await Promise.all([bootstrap?.tenant ? undefined : loadTenant(), loadJobs()]);
  } catch {
    // Offline: the jobs as last read, and the outbox sends when the phone is back.
  }
}
const wanted = new URLSearchParams(location.search).get('job');
if (wanted) open(wanted);
else redraw();
// Interactive: the jobs are drawn and answer a tap (bench/src/worker-app.ts measures to here; the
// job screen's code follows at once).
performance.mark('worker-app-ready');
document.body.dataset.ready = 'true';
void loadJobView().catch(() => undefined);
void flush();
setInterval(() => void flush(), 30_000);
void listen();
