import { errorText } from './error-text.js';
import { Check } from '@sinclair/typebox/value';
import { FeedbackBody } from '@civicloop/model/report';
import type { CategoryCatalogue, StreamEvent, Ticket, TicketEvent, TicketStatus } from '@civicloop/sdk';
import { h, uid } from './dom.js';
import { readableTime, type Language, type MessageKey, type Translate } from './i18n.js';
import type { Session } from './session.js';

export interface MyReportsContext {
  t: Translate;
  language: Language;
  session: Session;
  catalogue: () => Promise<CategoryCatalogue>;
  announce: (text: string) => void;
  onStatus: (ticket: Ticket) => void;
}

/** The five steps a resident follows, and the states that count as having reached each. */
const STEPS: [MessageKey, TicketStatus[]][] = [
  ['stepReported', ['reported']],
  ['stepDispatched', ['dispatched', 'accepted']],
  ['stepOnSite', ['on_site', 'rework']],
  ['stepResolved', ['resolved']],
  ['stepClosed', ['closed']],
];
const stepOf = (status: TicketStatus) => STEPS.findIndex(([, statuses]) => statuses.includes(status));

const PAGE = 20;
/** URGE_INTERVAL_HOURS of the state machine (which this bundle does not carry). */
const URGE_INTERVAL_MS = 12 * 3_600_000;

/** The resident's own reports, each with its timeline, after-photos and, once closed, the rating. */
// Long: a component without a framework: its elements, its state and their event handlers share one scope.
export function myReports(ctx: MyReportsContext) {
  const { t } = ctx;
  const list = h('ul', { class: 'tickets', part: 'tickets' });
  const message = h('p', { class: 'hint' });
  const element = h('div', {}, message, list);
  const shown = new Map<string, { ticket: Ticket; history: TicketEvent[]; item: HTMLLIElement }>();
  let reopenAtOrBelow: number | null | undefined;

  const time = (iso: string) => readableTime(iso, ctx.language);

  function timeline(ticket: Ticket, history: TicketEvent[]): HTMLElement {
    const reached = stepOf(ticket.status);
    return h(
      'ol',
      { class: 'timeline', part: 'timeline', 'aria-label': t('details') },
      STEPS.map(([label, statuses], index) => {
        const at = [...history].reverse().find((event) => statuses.includes(event.to))?.at;
        const done = reached >= index;
        return h(
          'li',
          { class: done ? 'reached' : '', 'aria-current': reached === index ? 'step' : false },
          t(label),
          at && done ? h('div', {}, time(at)) : '',
        );
      }),
    );
  }

  function ratingForm(ticket: Ticket): HTMLElement {
    const name = uid('cl-rating');
    const commentId = uid('cl-comment');
    const error = h('p', { class: 'error', role: 'alert' });
    const comment = h('textarea', { id: commentId, maxlength: 1000, part: 'input' });
    const stars = [1, 2, 3, 4, 5].map((r) => h('label', {}, h('input', { type: 'radio', name, value: String(r), required: true }), t('ratingValue', { r })));
    const button = h('button', { type: 'submit', class: 'primary', part: 'submit' }, t('rateSubmit'));
    const form = h(
      'form',
      { part: 'rating', novalidate: true, onsubmit: (event: Event) => submit(event) },
      h('fieldset', {}, h('legend', {}, t('rate')), h('div', { class: 'stars' }, stars)),
      typeof reopenAtOrBelow === 'number' ? h('p', { class: 'hint' }, t('reopenRule', { r: reopenAtOrBelow })) : '',
      h('label', { for: commentId }, t('comment')),
      comment,
      error,
      h('div', { class: 'actions' }, button),
    );
    async function submit(event: Event): Promise<void> {
      event.preventDefault();
      const picked = form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`);
      const body = { rating: Number(picked?.value), ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) };
      if (!Check(FeedbackBody, body)) {
        error.textContent = t('invalid', { f: t('rate') });
        form.querySelector<HTMLInputElement>('input[type=radio]')?.focus();
        return;
      }
      button.disabled = true;
      try {
        const result = await ctx.session.resident.tickets.feedback(ticket.id, body);
        ctx.announce(result.ticket.status === 'closed' ? t('rated') : t('reopened'));
        await reload(ticket.id);
      } catch (failure) {
        error.textContent = t('error', { e: errorText(failure, ctx.language) });
        button.disabled = false;
      }
    }
    return form;
  }

  async function card(ticket: Ticket, history: TicketEvent[]): Promise<HTMLLIElement> {
    const catalogue = await ctx.catalogue().catch(() => undefined);
    // The type as it was reported (the tenant may have renamed or retired it since).
    const category =
      ticket.categoryAsReported?.name[ctx.language] ?? catalogue?.categories.find((c) => c.code === ticket.category)?.name[ctx.language] ?? ticket.category;
    const rated = ticket.feedback && ticket.closedAt && ticket.feedback.at >= ticket.closedAt;
    const headingId = uid('cl-ticket');
    const place = ticket.location.address ?? `${ticket.location.lat.toFixed(5)}, ${ticket.location.lon.toFixed(5)}`;
    const workerNote = [...history].reverse().find((event) => event.type === 'resolved')?.note;
    const open = !['closed', 'rejected', 'duplicate', 'cancelled'].includes(ticket.status);
    return h(
      'li',
      { class: 'ticket', part: 'ticket', 'aria-labelledby': headingId, 'data-ticket': ticket.id },
      h('h3', { id: headingId, tabindex: -1 }, `${category} · ${ticket.number}`),
      h('p', { class: 'meta' }, h('span', { class: 'badge', part: 'status' }, t(`status_${ticket.status}` as MessageKey)), ' ', time(ticket.createdAt)),
      h('p', { part: 'description' }, ticket.description),
      h('p', { class: 'meta', part: 'place' }, `${t('place')}：${place}`),
      open && ticket.sla
        ? h(
            'p',
            { class: ticket.overdue ? 'meta late' : 'meta', part: 'due' },
            t('dueBy', { time: time(ticket.sla.resolveBy) }),
            ticket.overdue ? ` · ${t('overdue')}` : '',
          )
        : '',
      ticket.urgedAt && open ? h('p', { class: 'meta', part: 'urged' }, t('urged', { time: time(ticket.urgedAt) })) : '',
      mayUrge(ticket) ? urgeButton(ticket) : '',
      ticket.photos.length ? photoList(t('yourPhotos'), ticket.photos, 'photos') : '',
      STEPS.some(([, statuses]) => statuses.includes(ticket.status)) ? timeline(ticket, history) : '',
      workerNote ? h('p', { part: 'worker-note' }, `${t('workerNote')}：${workerNote}`) : '',
      ticket.status === 'reported' && ticket.reporter.sub === ctx.session.subject() ? withdrawButton(ticket) : '',
      ticket.afterPhotos.length ? photoList(t('afterPhotos'), ticket.afterPhotos, 'after-photos') : '',
      ticket.status === 'closed' && !rated ? ratingForm(ticket) : '',
      rated
        ? h(
            'p',
            { class: 'meta', part: 'your-rating' },
            t('yourRating', { r: ticket.feedback!.rating }),
            ticket.feedback!.comment ? `：${ticket.feedback!.comment}` : '',
          )
        : '',
    );
  }

  function photoList(label: string, photos: Ticket['photos'], part: string): HTMLElement {
    return h(
      'div',
      { part },
      h('p', { class: 'meta' }, label),
      h(
        'ul',
        { class: 'thumbs' },
        photos.map((photo, index) => h('li', {}, h('img', { src: ctx.session.public.media.url(photo), alt: `${label} ${index + 1}`, loading: 'lazy' }))),
      ),
    );
  }

  /** 催办 is offered on an overdue report under way, once in 12 hours (the gateway checks again). */
  function mayUrge(ticket: Ticket): boolean {
    if (!ticket.overdue || !['dispatched', 'accepted', 'on_site', 'rework'].includes(ticket.status)) return false;
    return !ticket.urgedAt || Date.now() - Date.parse(ticket.urgedAt) >= URGE_INTERVAL_MS;
  }

  /**
   * A button that sends one command on a report, then says so and shows the report as it now is;
   * a refusal is said under it in the resident's words. With `confirm`, the first press only
   * arms it (its text changes) and the second sends.
   */
  function commandButton(ticket: Ticket, part: string, label: MessageKey, send: () => Promise<unknown>, done: MessageKey, confirm?: MessageKey): HTMLElement {
    const error = h('p', { class: 'error', role: 'alert' });
    const button = h('button', { type: 'button', part }, t(label)) as HTMLButtonElement;
    let armed = !confirm;
    button.onclick = async () => {
      if (!armed) {
        armed = true;
        button.textContent = t(confirm!);
        return;
      }
      button.disabled = true;
      try {
        await send();
        ctx.announce(t(done, { n: ticket.number }));
        await reload(ticket.id);
      } catch (failure) {
        error.textContent = t('error', { e: errorText(failure, ctx.language) });
        button.disabled = false;
      }
    };
    return h('div', { class: 'actions' }, button, error);
  }

  /** 催办: the resident presses an overdue report; the unit and the worker are told. */
  const urgeButton = (ticket: Ticket) => commandButton(ticket, 'urge', 'urge', () => ctx.session.resident.tickets.urge(ticket.id), 'urgedNow');

  /** 撤销: the reporter withdraws a report nobody has been sent to yet; a second press confirms. */
  const withdrawButton = (ticket: Ticket) =>
    commandButton(
      ticket,
      'withdraw',
      'withdraw',
      () => ctx.session.resident.tickets.cancel(ticket.id, { expectedVersion: ticket.version }),
      'withdrawn',
      'withdrawConfirm',
    );

  async function draw(ticket: Ticket) {
    const history = await ctx.session.resident.tickets.history(ticket.id);
    return { ticket, history, item: await card(ticket, history) };
  }

  async function render(ticket: Ticket): Promise<void> {
    const entry = await draw(ticket);
    const previous = shown.get(ticket.id);
    if (previous) {
      // A live update redraws the card; focus inside it (after "Follow it", say) stays on the card.
      const root = previous.item.getRootNode() as Document | ShadowRoot;
      const hadFocus = !!root.activeElement && previous.item.contains(root.activeElement);
      previous.item.replaceWith(entry.item);
      if (hadFocus) entry.item.querySelector<HTMLElement>('h3')?.focus();
    } else list.prepend(entry.item);
    shown.set(ticket.id, entry);
  }

  async function reload(id: string): Promise<void> {
    await render(await ctx.session.resident.tickets.get(id));
  }

  let loading: Promise<void> = Promise.resolve();
  /** Loads the newest page of the resident's reports. */
  function refresh(): Promise<void> {
    loading = load();
    return loading;
  }

  /** Once the list is drawn, moves focus to one report (after "follow it"). */
  async function focus(ticketId: string): Promise<void> {
    await loading;
    shown.get(ticketId)?.item.querySelector<HTMLElement>('h3')?.focus();
  }

  async function load(): Promise<void> {
    if (!ctx.session.hasIdentity()) {
      message.textContent = t('mineEmpty');
      return;
    }
    message.textContent = t('loading');
    try {
      if (reopenAtOrBelow === undefined) reopenAtOrBelow = (await ctx.session.resident.me()).tenant.policy.reopenOnRatingAtOrBelow;
      const page = await ctx.session.resident.tickets.list({ limit: PAGE });
      // Built first, swapped in at once: no half-drawn list, and the histories load in parallel.
      const drawn = await Promise.all(page.items.map(draw));
      shown.clear();
      for (const entry of drawn) shown.set(entry.ticket.id, entry);
      list.replaceChildren(...drawn.map((entry) => entry.item));
      message.textContent = page.items.length ? '' : t('mineEmpty');
    } catch (error) {
      message.textContent = t('error', { e: errorText(error, ctx.language) });
    }
  }

  /** A live event for one of the resident's tickets: redraw it and say what changed. */
  async function applyEvent(event: StreamEvent): Promise<void> {
    const before = shown.get(event.event.ticketId)?.ticket.status;
    await reload(event.event.ticketId);
    const after = shown.get(event.event.ticketId)!.ticket;
    // A report that just appeared was announced by whoever filed it; changes are announced here.
    if (before !== undefined && before !== after.status) {
      ctx.announce(t('statusChanged', { n: after.number, s: t(`status_${after.status}` as MessageKey) }));
      ctx.onStatus(after);
    }
    if (message.textContent === t('mineEmpty')) message.textContent = '';
  }

  return { element, refresh, applyEvent, focus };
}
