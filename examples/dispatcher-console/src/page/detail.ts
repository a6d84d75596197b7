import type { Category, CommandResult, LikelyDuplicate, Ticket, TicketEvent } from '@civicloop/sdk';
import { explain, inMapCrs, type ConsoleContext } from './context.js';
import { DEADLINE_LABEL, span, type DeadlineKind } from './deadlines.js';
import { el } from './dom.js';
import { CHANNEL_LABEL, clockTime, EVENT_LABEL, PRIORITY_LABEL, STATE_LABEL } from './labels.js';

/** A ticket photo as the gateway shows it (a signed link for stored ones). */
type Photo = Ticket['photos'][number];

export function photoStrip(ctx: ConsoleContext, label: string, photos: readonly Photo[], kind: string): HTMLElement {
  // A stored photo by its signed link on the gateway, an https reference as it is; nothing else.
  const shown = photos.flatMap((p) => (p.url ? [ctx.client.media.url(p)] : p.ref.startsWith('https://') ? [p.ref] : []));
  return el(
    'figure',
    { class: 'photos', 'data-photos': kind },
    el('figcaption', {}, label),
    ...(shown.length === 0 ? [el('p', { class: 'muted' }, 'None 无')] : shown.map((src, i) => el('img', { src, alt: `${label} ${i + 1}` }))),
  );
}

/** The reporter's answers to the category's questions, each beside its question, choices by name. */
function answersOf(ticket: Ticket, category: Category | undefined): HTMLElement[] {
  if (!ticket.answers) return [];
  const questions = category?.questions ?? [];
  const rows = Object.entries(ticket.answers).flatMap(([code, value]) => {
    const question = questions.find((q) => q.code === code);
    const named = (key: string) => {
      const choice = question?.values?.find((v) => v.key === key);
      return choice ? `${choice.name['zh-CN']} ${choice.name.en}` : key;
    };
    const text = Array.isArray(value)
      ? value.map(named).join(', ')
      : question?.datatype === 'datetime'
        ? clockTime(String(value))
        : question?.datatype === 'singlevaluelist'
          ? named(String(value))
          : String(value);
    return [el('dt', {}, question ? `${question.description['zh-CN']} ${question.description.en}` : code), el('dd', { 'data-answer': code }, text)];
  });
  return [el('h3', {}, 'Answers 补充信息'), el('dl', { class: 'facts answers' }, ...rows)];
}

/** Respond, arrive and resolve: when each is due, and whether it was met, is open or is breached. */
function deadlines(ticket: Ticket, now: number): HTMLElement {
  if (!ticket.sla) return el('p', { class: 'muted' }, 'Deadlines start when it is dispatched. 派遣后开始计时。');
  const met: Record<DeadlineKind, string | undefined> = { respond: ticket.acceptedAt, arrive: ticket.arrivedAt, resolve: ticket.resolvedAt ?? ticket.closedAt };
  const due: Record<DeadlineKind, string> = { respond: ticket.sla.respondBy, arrive: ticket.sla.arriveBy, resolve: ticket.sla.resolveBy };
  const rows = (['respond', 'arrive', 'resolve'] as const).map((kind) => {
    const at = Date.parse(due[kind]);
    const doneAt = met[kind] && ticket.status !== 'rework' ? Date.parse(met[kind]!) : undefined;
    const state =
      doneAt !== undefined
        ? doneAt <= at
          ? 'Met 按时'
          : `Met late by ${span(doneAt - at)} 超时完成`
        : at < now
          ? `Overdue ${span(now - at)} 已超时`
          : `${span(at - now)} left 剩余`;
    return el(
      'tr',
      { 'data-deadline': kind, class: doneAt === undefined && at < now ? 'breached' : undefined },
      el('th', { scope: 'row' }, DEADLINE_LABEL[kind]),
      el('td', {}, clockTime(due[kind])),
      el('td', {}, state),
    );
  });
  return el('table', { class: 'deadlines' }, el('caption', {}, 'Deadlines 时限'), ...rows);
}

function history(events: readonly TicketEvent[]): HTMLElement {
  return el(
    'ol',
    { class: 'history', 'aria-label': 'History 处理过程' },
    ...events.map((e) => {
      // A worker's step taken without a network: it counts when it was done, which is what the deadlines show.
      const done = typeof e.data?.occurredAt === 'string' && e.data.occurredAt !== e.at ? e.data.occurredAt : undefined;
      return el(
        'li',
        {},
        el('time', { datetime: e.at }, clockTime(e.at)),
        ` ${EVENT_LABEL[e.type]} · ${e.actor.name ?? e.actor.sub}${e.note ? `: ${e.note}` : ''}`,
        ...(done ? [' (done offline at ', el('time', { datetime: done, class: 'done-offline' }, clockTime(done)), ' 离线完成)'] : []),
      );
    }),
  );
}

/**
 * While a ticket waits for its worker to accept it: whether the assignment still waits for the
 * worker's devices (their badge, their vehicle's terminal: GET /v1/devices?staffId=, the lookup a
 * dispatch makes), from each device's commands not yet confirmed (GET /v1/devices/{id}/state,
 * `waiting`). A worker with no device never gets it, and one whose badge is switched off or out
 * of coverage gets it only when it is back: the dispatcher sees that here and phones them.
 * Nothing waiting is not proof of delivery (a device linked after the dispatch was never sent
 * it), so it is worded as what it is.
 */
async function assignmentDelivery(ctx: ConsoleContext, ticket: Ticket): Promise<[string, string][]> {
  if (ticket.status !== 'dispatched' || !ticket.assigneeId) return [];
  const devices = await ctx.client.devices.list({ staffId: ticket.assigneeId });
  if (devices.length === 0) return [['Device 设备', 'None: the assignment reaches no device; phone the worker. 无设备，请电话通知']];
  // A disabled device is sent nothing: its state is not read.
  const states = await Promise.all(devices.map((d) => (d.disabled ? undefined : ctx.client.devices.state(d.id))));
  return devices.map((device, i) => {
    const state = states[i];
    if (!state) return ['Device 设备', `${device.name}: disabled, sent nothing 已停用`];
    const waiting = state.waiting.find((c) => c.type === 'assignment' && c.ticketId === ticket.id);
    const since = waiting?.givenAt ? ` since ${clockTime(waiting.givenAt)}` : '';
    return ['Device 设备', `${device.name}: ${waiting ? `not yet received${since} 未送达` : 'nothing waiting 无待送达'}`];
  });
}

/**
 * One ticket, opened from the board or found by number: photos, deadlines, likely duplicates side
 * by side, history, and the actions the signed-in person may take. A modal dialog, so the keyboard
 * stays in it and Escape closes it.
 */
export class TicketDetail {
  private readonly dialog: HTMLDialogElement;
  private readonly body = el('div', { class: 'detail-body' });
  private readonly status = el('p', { role: 'status', class: 'status' });
  private readonly error = el('p', { role: 'alert', class: 'error' });
  private current: string | undefined;

  constructor(private readonly ctx: ConsoleContext) {
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'Close 关闭' }, '×');
    close.addEventListener('click', () => this.dialog.close());
    this.dialog = el('dialog', { id: 'detail', 'aria-labelledby': 'detail-title' }, close, this.status, this.error, this.body);
    this.dialog.addEventListener('close', () => {
      this.current = undefined;
    });
    document.body.append(this.dialog);
  }

  get openTicketId(): string | undefined {
    return this.current;
  }

  async show(id: string): Promise<void> {
    this.current = id;
    this.status.textContent = '';
    this.error.textContent = '';
    // Another ticket's controls must never be left under this one's title while it loads.
    if (this.body.dataset.ticket !== id) {
      this.body.replaceChildren(el('p', { class: 'muted' }, 'Loading… 加载中'));
      delete this.body.dataset.ticket;
      delete this.body.dataset.version;
    }
    if (!this.dialog.open) this.dialog.showModal();
    await this.draw(id);
  }

  /**
   * An event about the ticket the dialog shows: redraw it if it changed, keeping the messages.
   * An event for the version already shown (the stream can repeat what the page read) changes
   * nothing, so a form the operator is filling in is not wiped.
   */
  async refresh(id: string): Promise<void> {
    if (this.current === id) await this.draw(id, true);
  }

  private async draw(id: string, onlyIfChanged = false): Promise<void> {
    const { client } = this.ctx;
    try {
      // The actions (and the state machine and schemas they need) load with the first ticket
      // opened, not with the board: the page a dispatcher waits for stays small.
      const rest = () => Promise.all([client.tickets.history(id), import('./actions.js')]);
      // Opening asks for everything at once; a refresh reads the history only if the ticket changed.
      const early = onlyIfChanged ? undefined : rest();
      const ticket = await client.tickets.get(id, { crs: this.ctx.displayCrs });
      if (onlyIfChanged && this.body.dataset.ticket === id && String(ticket.version) === this.body.dataset.version) return;
      const [events, actions] = await (early ?? rest());
      const dupes = actions.allowedFor(ticket, this.ctx.actor).has('merge') ? await client.tickets.likelyDuplicates(id) : [];
      const delivery = await assignmentDelivery(this.ctx, ticket);
      if (this.current !== id) return;
      this.body.replaceChildren(...this.sections(ticket, events, await this.duplicates(ticket, dupes), actions.actionsFor, delivery));
      this.body.dataset.version = String(ticket.version);
      this.body.dataset.ticket = ticket.id;
    } catch (error) {
      this.error.textContent = explain(error);
    }
  }

  private sections(
    ticket: Ticket,
    events: TicketEvent[],
    duplicates: HTMLElement | undefined,
    actionsFor: typeof import('./actions.js').actionsFor,
    delivery: [string, string][],
  ): HTMLElement[] {
    const { categoryName, units } = this.ctx;
    // The category as the ticket was reported under it (a tenant may have changed it since).
    const category = ticket.categoryAsReported ?? this.ctx.categoryOf(ticket.category);
    const title = ticket.categoryAsReported ? `${ticket.categoryAsReported.name['zh-CN']} ${ticket.categoryAsReported.name.en}` : categoryName(ticket.category);
    const unitName = units.find((u) => u.id === ticket.unitId)?.name ?? ticket.unitId;
    const facts: [string, string][] = [
      ['State 状态', STATE_LABEL[ticket.status]],
      ['Reported 上报', `${clockTime(ticket.createdAt)} · ${CHANNEL_LABEL[ticket.channel]}`],
      // A hotline case: when the citizen called, which may be well before the import made the ticket.
      ...(ticket.receivedAt ? [['Call received 来电', clockTime(ticket.receivedAt)] as [string, string]] : []),
      ['Priority 优先级', PRIORITY_LABEL[ticket.priority]],
      ...(unitName ? [['Unit 单位', unitName] as [string, string]] : []),
      ...(ticket.assigneeId ? [['Worker 处置人', this.ctx.staff.find((s) => s.id === ticket.assigneeId)?.name ?? ticket.assigneeId] as [string, string]] : []),
      ...delivery,
      ['Where 位置', ticket.location.address ?? `${ticket.location.lat.toFixed(5)}, ${ticket.location.lon.toFixed(5)}`],
      ...(ticket.feedback
        ? [
            [
              'Rating 评价',
              `${ticket.feedback.rating}/5 (${ticket.feedback.via ?? 'app'})${ticket.feedback.comment ? `: ${ticket.feedback.comment}` : ''}`,
            ] as [string, string],
          ]
        : []),
    ];
    const run = (label: string, command: () => Promise<CommandResult>) => this.run(label, command);
    const actions = actionsFor(ticket, this.ctx, run);
    return [
      el('h2', { id: 'detail-title' }, `${ticket.number} ${title}`),
      el('p', { class: 'description' }, ticket.description),
      el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      ...answersOf(ticket, category),
      el(
        'div',
        { class: 'photo-pair' },
        photoStrip(this.ctx, 'Reported 上报照片', ticket.photos, 'before'),
        photoStrip(this.ctx, 'After 处置后照片', ticket.afterPhotos, 'after'),
      ),
      deadlines(ticket, Date.now()),
      ...(duplicates ? [duplicates] : []),
      el(
        'div',
        { class: 'actions' },
        ...(actions.length ? actions : [el('p', { class: 'muted' }, 'Nothing for you to do on this ticket now. 当前无可执行操作。')]),
      ),
      el('h3', {}, 'History 处理过程'),
      history(events),
    ];
  }

  /** Likely duplicates, each beside this report, with a button to merge this one into it. */
  private async duplicates(ticket: Ticket, found: LikelyDuplicate[]): Promise<HTMLElement | undefined> {
    if (found.length === 0) return undefined;
    const others = await Promise.all(found.map((d) => this.ctx.client.tickets.get(d.id, { crs: this.ctx.displayCrs })));
    const side = (t: Ticket, note: string) =>
      el(
        'div',
        { class: 'side', 'data-side': t.id },
        el('h4', {}, `${t.number} · ${STATE_LABEL[t.status]}`),
        el('p', {}, t.description),
        el('p', { class: 'muted' }, note),
        photoStrip(this.ctx, 'Photos 照片', t.photos, t.id === ticket.id ? 'this' : 'other'),
      );
    const pairs = found.map((d, i) => {
      const other = others[i]!;
      const merge = el('button', { type: 'button', 'data-merge-into': other.id }, `Merge this into ${other.number} 合并到 ${other.number}`);
      merge.addEventListener(
        'click',
        () =>
          void this.run(`Merged into ${other.number} 已合并`, () =>
            this.ctx.client.tickets.merge(ticket.id, { into: other.id, expectedVersion: ticket.version }, inMapCrs(this.ctx)),
          ),
      );
      return el(
        'div',
        { class: 'pair', 'data-duplicate': other.id },
        side(ticket, `This report · ${clockTime(ticket.createdAt)}`),
        side(other, `${d.distanceMeters} m away · ${clockTime(other.createdAt)}`),
        merge,
      );
    });
    return el(
      'section',
      { class: 'duplicates', 'aria-label': 'Likely duplicates 疑似重复' },
      el('h3', {}, `Likely duplicates 疑似重复 (${found.length})`),
      ...pairs,
    );
  }

  private async run(label: string, command: () => Promise<CommandResult>): Promise<void> {
    this.error.textContent = '';
    this.status.textContent = 'Sending… 提交中';
    try {
      const { ticket } = await command();
      this.status.textContent = `${label}: ${ticket.number}`;
      this.ctx.changed(ticket);
      await this.draw(ticket.id);
    } catch (error) {
      this.status.textContent = '';
      this.error.textContent = explain(error);
    }
  }
}
