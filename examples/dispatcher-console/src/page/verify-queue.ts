import type { BoardTicket } from '../first-screen.js';
import { explain, inMapCrs, type ConsoleContext } from './context.js';
import { span } from './deadlines.js';
import { photoStrip } from './detail.js';
import { el } from './dom.js';

/** Who verifies, as the state machine says (supervisors; admins and servers for anyone). */
export const VERIFIES = new Set(['supervisor', 'admin', 'service']);

/**
 * The supervisor's verify queue (待核查): every resolved ticket, longest waiting first, with the
 * reported and after photos side by side and pass or fail (fail needs a note) on the row itself.
 * Drawn again only when the set of resolved tickets or their versions changes, so a note being
 * typed survives live updates of other tickets.
 */
export class VerifyQueue {
  private drawn = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ConsoleContext,
    private readonly open: (id: string) => void,
  ) {}

  render(tickets: Iterable<BoardTicket>): void {
    const waiting = [...tickets]
      .filter((t) => t.status === 'resolved')
      .sort((a, b) => (a.resolvedAt ?? a.updatedAt).localeCompare(b.resolvedAt ?? b.updatedAt));
    const key = waiting.map((t) => `${t.id}@${t.version}`).join(',');
    if (key === this.drawn) return;
    this.drawn = key;
    this.root.replaceChildren(
      el('h2', { id: 'verify-title' }, `Verify queue 待核查 (${waiting.length})`),
      waiting.length === 0
        ? el('p', { class: 'muted' }, 'Nothing waits for verification. 暂无待核查案件。')
        : el('ol', { class: 'verify-list' }, ...waiting.map((t) => this.row(t))),
    );
  }

  private row(ticket: BoardTicket): HTMLElement {
    const note = el('input', { id: `verify-note-${ticket.id}`, name: 'note', maxlength: 2000 });
    const status = el('p', { class: 'status', role: 'status' });
    const pass = el('button', { type: 'button', 'data-outcome': 'pass' }, 'Pass: close 通过结案');
    const fail = el('button', { type: 'button', 'data-outcome': 'fail' }, 'Fail: back for rework 不通过返工');
    const number = el('button', { type: 'button', class: 'open' }, ticket.number);
    number.addEventListener('click', () => this.open(ticket.id));
    const decide = async (outcome: 'pass' | 'fail') => {
      if (outcome === 'fail' && !note.value.trim()) {
        status.textContent = 'Say what is still wrong before sending it back. 退回返工请填写核查意见。';
        note.focus();
        return;
      }
      pass.disabled = fail.disabled = true;
      try {
        const { ticket: next } = await this.ctx.client.tickets.verify(
          ticket.id,
          { outcome, ...(note.value.trim() ? { note: note.value.trim() } : {}), expectedVersion: ticket.version },
          inMapCrs(this.ctx),
        );
        this.ctx.changed(next);
      } catch (error) {
        status.textContent = explain(error);
        pass.disabled = fail.disabled = false;
      }
    };
    pass.addEventListener('click', () => void decide('pass'));
    fail.addEventListener('click', () => void decide('fail'));
    const waited = ticket.resolvedAt ? ` · waiting ${span(Date.now() - Date.parse(ticket.resolvedAt))} 已等待` : '';
    return el(
      'li',
      { 'data-verify': ticket.id },
      el('h3', {}, number, ` ${this.ctx.categoryName(ticket.category)}${waited}`),
      el('p', {}, ticket.description),
      el(
        'div',
        { class: 'photo-pair' },
        photoStrip(this.ctx, 'Reported 上报照片', ticket.photos, 'before'),
        photoStrip(this.ctx, 'After 处置后照片', ticket.afterPhotos, 'after'),
      ),
      el('div', { class: 'field' }, el('label', { for: note.id }, 'Note 核查意见 (needed to fail 不通过必填)'), note),
      el('div', { class: 'buttons' }, pass, fail),
      status,
    );
  }
}
