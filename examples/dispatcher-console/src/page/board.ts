import type { BoardTicket } from '../first-screen.js';
import { ageText, deadlineText, nextDeadline } from './deadlines.js';
import { el, setText } from './dom.js';
import { OPEN_STATES, STATE_LABEL, type OpenState } from './labels.js';

interface Card {
  item: HTMLLIElement;
  version: number;
  ticket: BoardTicket;
  countdown: HTMLElement;
  age: HTMLElement;
}

/**
 * Cards drawn per column, most urgent first. A city's queue can hold thousands of open tickets;
 * a column says how many more there are, and the filters narrow it down.
 */
export const MAX_CARDS_PER_COLUMN = 100;

/**
 * The board of open tickets by state. Cards are kept by ticket id and changed in place: a new
 * version rebuilds one card, the clock only rewrites the texts that changed, so nothing redraws
 * every second and focus stays where the dispatcher left it.
 */
export class Board {
  private readonly cards = new Map<string, Card>();
  private readonly lists = new Map<OpenState, HTMLOListElement>();
  private readonly counts = new Map<OpenState, HTMLElement>();
  private readonly more = new Map<OpenState, HTMLElement>();

  constructor(
    root: HTMLElement,
    private readonly categoryName: (code: string) => string,
    private readonly open: (ticketId: string) => void,
  ) {
    for (const state of OPEN_STATES) {
      const count = el('span', { class: 'count' }, '0');
      const list = el('ol', { 'aria-label': STATE_LABEL[state] });
      const more = el('p', { class: 'more muted', hidden: true });
      root.append(el('div', { class: 'column', 'data-state': state }, el('h3', {}, STATE_LABEL[state], ' ', count), list, more));
      this.lists.set(state, list);
      this.counts.set(state, count);
      this.more.set(state, more);
    }
  }

  /** Shows `shown` (the filtered open tickets), each in its state's column, most urgent first, at most MAX_CARDS_PER_COLUMN each. */
  render(shown: readonly BoardTicket[], now: number): void {
    const urgency = new Map(shown.map((t) => [t.id, nextDeadline(t, now)?.at ?? Date.parse(t.createdAt)]));
    const drawn = new Set<string>();
    const columns = new Map<OpenState, BoardTicket[]>(OPEN_STATES.map((state) => [state, []]));
    for (const ticket of shown) columns.get(ticket.status as OpenState)?.push(ticket);
    for (const state of OPEN_STATES) {
      const inState = columns.get(state)!.sort((a, b) => urgency.get(a.id)! - urgency.get(b.id)!);
      const visible = inState.slice(0, MAX_CARDS_PER_COLUMN);
      for (const ticket of visible) drawn.add(ticket.id);
      const list = this.lists.get(state)!;
      visible.forEach((ticket, index) => {
        const card = this.card(ticket, now);
        if (list.children[index] !== card.item) list.insertBefore(card.item, list.children[index] ?? null);
      });
      setText(this.counts.get(state)!, String(inState.length));
      const more = this.more.get(state)!;
      more.hidden = inState.length <= visible.length;
      setText(more, more.hidden ? '' : `+${inState.length - visible.length} more: narrow with the filters 更多请筛选`);
    }
    for (const [id, card] of this.cards) {
      if (!drawn.has(id)) {
        card.item.remove();
        this.cards.delete(id);
      }
    }
  }

  /** Ages and countdowns, text only. */
  tick(now: number): void {
    for (const card of this.cards.values()) this.fillTimes(card, now);
  }

  private card(ticket: BoardTicket, now: number): Card {
    const known = this.cards.get(ticket.id);
    if (known && known.version === ticket.version) return known;
    const open = el(
      'button',
      { type: 'button', class: 'open' },
      el('span', { class: 'number' }, ticket.number),
      el('span', { class: 'category' }, this.categoryName(ticket.category)),
      el('span', { class: 'age' }),
      el('span', { class: 'countdown' }),
      ...(ticket.escalationLevel ? [el('span', { class: 'escalation' }, `督办 ${ticket.escalationLevel}`)] : []),
      ...(ticket.extension?.status === 'pending' ? [el('span', { class: 'flag' }, 'Extension asked 申请延期')] : []),
      ...(ticket.urgeCount ? [el('span', { class: 'flag urged', 'data-urged': String(ticket.urgeCount) }, `Chased 催办 ×${ticket.urgeCount}`)] : []),
    );
    open.addEventListener('click', () => this.open(ticket.id));
    const item = el('li', { class: `card priority-${ticket.priority}`, 'data-ticket': ticket.id }, open);
    const card: Card = { item, version: ticket.version, ticket, countdown: open.querySelector('.countdown')!, age: open.querySelector('.age')! };
    this.fillTimes(card, now);
    if (known) known.item.replaceWith(item);
    this.cards.set(ticket.id, card);
    return card;
  }

  private fillTimes({ item, ticket, countdown, age }: Card, now: number): void {
    const due = deadlineText(ticket, now);
    if (item.classList.contains('overdue') !== due.breached) item.classList.toggle('overdue', due.breached);
    setText(countdown, due.text);
    setText(age, ageText(ticket.createdAt, now));
  }
}
