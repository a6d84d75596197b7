import type { Ticket } from '@civicloop/sdk';
import { ageText, deadlineText, nextDeadline } from './deadlines.js';
import { el, setText } from './dom.js';
import { OPEN_STATES, STATE_LABEL, type OpenState } from './labels.js';

interface Card {
  item: HTMLLIElement;
  version: number;
  ticket: Ticket;
}

/**
 * The board of open tickets by state. Cards are kept by ticket id and changed in place: a new
 * version rebuilds one card, the clock only rewrites the texts that changed, so nothing redraws
 * every second and focus stays where the dispatcher left it.
 */
export class Board {
  private readonly cards = new Map<string, Card>();
  private readonly lists = new Map<OpenState, HTMLOListElement>();
  private readonly counts = new Map<OpenState, HTMLElement>();

  constructor(
    root: HTMLElement,
    private readonly categoryName: (code: string) => string,
    private readonly open: (ticketId: string) => void,
  ) {
    for (const state of OPEN_STATES) {
      const count = el('span', { class: 'count' }, '0');
      const list = el('ol', { 'aria-label': STATE_LABEL[state] });
      root.append(el('div', { class: 'column', 'data-state': state }, el('h3', {}, STATE_LABEL[state], ' ', count), list));
      this.lists.set(state, list);
      this.counts.set(state, count);
    }
  }

  /** Shows exactly `shown` (the filtered open tickets), each in its state's column, most urgent first. */
  render(shown: readonly Ticket[], now: number): void {
    const keep = new Set(shown.map((t) => t.id));
    for (const [id, card] of this.cards) {
      if (!keep.has(id)) {
        card.item.remove();
        this.cards.delete(id);
      }
    }
    const urgency = (t: Ticket) => nextDeadline(t, now)?.at ?? Date.parse(t.createdAt);
    for (const state of OPEN_STATES) {
      const inState = shown.filter((t) => t.status === state).sort((a, b) => urgency(a) - urgency(b));
      const list = this.lists.get(state)!;
      inState.forEach((ticket, index) => {
        const card = this.card(ticket, now);
        if (list.children[index] !== card.item) list.insertBefore(card.item, list.children[index] ?? null);
      });
      setText(this.counts.get(state)!, String(inState.length));
    }
  }

  /** Once a second: ages and countdowns, text only. */
  tick(now: number): void {
    for (const { item, ticket } of this.cards.values()) this.fillTimes(item, ticket, now);
  }

  private card(ticket: Ticket, now: number): Card {
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
    );
    open.addEventListener('click', () => this.open(ticket.id));
    const item = el('li', { class: `card priority-${ticket.priority}`, 'data-ticket': ticket.id }, open);
    this.fillTimes(item, ticket, now);
    if (known) known.item.replaceWith(item);
    const card = { item, version: ticket.version, ticket };
    this.cards.set(ticket.id, card);
    return card;
  }

  private fillTimes(item: HTMLLIElement, ticket: Ticket, now: number): void {
    const due = deadlineText(ticket, now);
    item.classList.toggle('overdue', due.breached);
    setText(item.querySelector('.countdown')!, due.text);
    setText(item.querySelector('.age')!, ageText(ticket.createdAt, now));
  }
}
