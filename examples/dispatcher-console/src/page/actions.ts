import { allowedCommands, distanceMeters, REJECT_REASONS, type CommandName } from '@civicloop/model';
import type { Actor, CommandResult, Ticket } from '@civicloop/sdk';
import { explain, inMapCrs, type ConsoleContext } from './context.js';
import { el, field as labelled } from './dom.js';
import { clockTime, REJECT_LABEL } from './labels.js';

type Run = (label: string, command: () => Promise<CommandResult>) => Promise<void>;

/**
 * The controls for what the signed-in person may do to this ticket now (the state machine's
 * allowedCommands for their role), each sending one command through the SDK.
 */
export function actionsFor(ticket: Ticket, ctx: ConsoleContext, run: Run): HTMLElement[] {
  const allowed = allowedFor(ticket, ctx.actor);
  const parts: HTMLElement[] = [];
  if (allowed.has('dispatch')) parts.push(dispatchForm(ticket, ctx, run, 'dispatch'));
  if (allowed.has('reassign')) parts.push(dispatchForm(ticket, ctx, run, 'reassign'));
  if (allowed.has('review_extension') && ticket.extension?.status === 'pending') parts.push(extensionReview(ticket, ctx, run));
  if (allowed.has('return'))
    parts.push(
      reasonForm('Return to the queue 退回', 'return', 'Why 退回原因', (reason) =>
        run('Returned 已退回', () => ctx.client.tickets.return(ticket.id, { reason, expectedVersion: ticket.version }, inMapCrs(ctx))),
      ),
    );
  if (allowed.has('verify')) parts.push(verifyForm(ticket, ctx, run));
  if (allowed.has('reject')) parts.push(rejectForm(ticket, ctx, run));
  if (allowed.has('feedback')) parts.push(followUpForm(ticket, ctx, run));
  return parts;
}

/** The commands this person may send on this ticket now (the gateway checks each again). */
export function allowedFor(ticket: Ticket, actor: Actor): Set<CommandName> {
  return new Set<CommandName>(allowedCommands(ticket, actor, new Date()));
}

let formCount = 0;
/** A labelled field (dom.ts), the control given an id first when it has none. */
function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  control.id ||= `f${++formCount}`;
  return labelled(label, control);
}
function section(title: string, name: string, ...body: HTMLElement[]): HTMLElement {
  return el('section', { class: 'action', 'data-action': name, 'aria-label': title }, el('h3', {}, title), ...body);
}
function submitOn(form: HTMLFormElement, send: () => Promise<void>): HTMLFormElement {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]') as HTMLButtonElement | null;
    if (button) button.disabled = true;
    void send().finally(() => {
      if (button) button.disabled = false;
    });
  });
  return form;
}

function dispatchForm(ticket: Ticket, ctx: ConsoleContext, run: Run, name: 'dispatch' | 'reassign'): HTMLElement {
  const title = name === 'dispatch' ? 'Dispatch 派遣' : 'Reassign 改派';
  const send = (unitId: string, assigneeId: string | undefined, note: string) =>
    run(name === 'dispatch' ? 'Dispatched 已派遣' : 'Reassigned 已改派', () =>
      ctx.client.tickets[name](
        ticket.id,
        { unitId, ...(assigneeId ? { assigneeId } : {}), ...(note ? { note } : {}), expectedVersion: ticket.version },
        inMapCrs(ctx),
      ),
    );
  // Suggestions: the nearest checked-in workers with the category's skills, one click each.
  const suggestions = el(
    'ol',
    { class: 'suggestions', 'aria-label': 'Nearest suitable workers 附近可派人员' },
    el('li', { class: 'muted' }, 'Finding the nearest workers… 查找附近人员'),
  );
  void ctx.client.tickets.nearestWorkers(ticket.id, { limit: 5 }).then(
    (found) => {
      const usable = found.filter((w) => w.unitId !== null && w.staffId !== ticket.assigneeId);
      suggestions.replaceChildren(
        ...(usable.length === 0
          ? [el('li', { class: 'muted' }, 'No checked-in worker with the skills nearby 附近无在岗人员')]
          : usable.map((w) => {
              const button = el(
                'button',
                { type: 'button', 'data-staff': w.staffId },
                `${name === 'dispatch' ? 'Dispatch to' : 'Reassign to'} ${w.name ?? w.staffId}`,
              );
              button.addEventListener('click', () => void send(w.unitId!, w.staffId, ''));
              const where = el('span', { 'data-distance': '' }, ` ${w.unitId} · ${w.distanceMeters} m`);
              return el('li', { 'data-suggestion': w.staffId }, button, where, ' ', locateButton(ticket, ctx, w.deviceId, w.unitId!, where));
            })),
      );
    },
    (error: unknown) => suggestions.replaceChildren(el('li', { class: 'error' }, explain(error))),
  );
  // Or by hand: a unit, and optionally one of its workers.
  const unit = el(
    'select',
    { name: 'unitId', required: true },
    el('option', { value: '' }, 'Choose a unit 选择单位'),
    ...ctx.units.map((u) => el('option', { value: u.id }, u.name)),
  );
  const worker = el('select', { name: 'assigneeId' }, el('option', { value: '' }, 'Unit decides 由单位安排'));
  unit.addEventListener('change', () => {
    worker.replaceChildren(
      el('option', { value: '' }, 'Unit decides 由单位安排'),
      ...ctx.staff.filter((s) => s.role === 'worker' && s.unitId === unit.value).map((s) => el('option', { value: s.id }, s.name)),
    );
  });
  const note = el('input', { name: 'note', maxlength: 2000 });
  const form = submitOn(
    el('form', {}, field('Unit 责任单位', unit), field('Worker 处置人员', worker), field('Note 备注', note), el('button', { type: 'submit' }, title)),
    () => send(unit.value, worker.value || undefined, note.value.trim()),
  );
  return section(title, name, el('h4', {}, 'Nearest suitable workers 附近可派人员'), suggestions, el('h4', {}, 'Or choose 或手动指定'), form);
}

/**
 * The distance above is from the badge's last stored position, which may be minutes old: this
 * asks the badge where it is now (POST /v1/devices/{id}/locate) and shows the distance from there.
 */
function locateButton(ticket: Ticket, ctx: ConsoleContext, deviceId: string, unitId: string, where: HTMLElement): HTMLElement {
  const button = el('button', { type: 'button', 'data-locate': deviceId }, 'Where now? 现在位置');
  button.addEventListener('click', () => {
    button.disabled = true;
    where.textContent = ` ${unitId} · asking the badge… 正在定位`;
    // In the system the ticket was read in (the map's), so that the two points are measured alike.
    void ctx.client.devices.locate(deviceId, { crs: ctx.displayCrs }).then(
      (found) => {
        const metres = Math.round(distanceMeters(found, ticket.location));
        where.textContent = ` ${unitId} · now ${metres} m, at ${clockTime(found.fixTime)} 当前距离`;
      },
      (error: unknown) => {
        where.textContent = ` ${unitId} · ${explain(error)}`;
        button.disabled = false;
      },
    );
  });
  return button;
}

function extensionReview(ticket: Ticket, ctx: ConsoleContext, run: Run): HTMLElement {
  const asked = ticket.extension!;
  const decide = (approve: boolean) =>
    run(approve ? 'Extension approved 已同意延期' : 'Extension refused 已驳回延期', () =>
      ctx.client.tickets.reviewExtension(ticket.id, { approve, expectedVersion: ticket.version }, inMapCrs(ctx)),
    );
  const approve = el('button', { type: 'button', 'data-decide': 'approve' }, 'Approve 同意');
  const refuse = el('button', { type: 'button', 'data-decide': 'refuse' }, 'Refuse 不同意');
  approve.addEventListener('click', () => void decide(true));
  refuse.addEventListener('click', () => void decide(false));
  const hours = Math.round((asked.minutes / 60) * 10) / 10;
  return section(
    'Extension asked 延期申请',
    'review_extension',
    el('p', {}, `${asked.requestedBy.name ?? asked.requestedBy.sub} asks for ${hours} h more: ${asked.reason}`),
    el('div', { class: 'buttons' }, approve, refuse),
  );
}

function reasonForm(title: string, name: string, label: string, send: (reason: string) => Promise<void>): HTMLElement {
  const reason = el('input', { name: 'reason', required: true, maxlength: 500 });
  return section(
    title,
    name,
    submitOn(el('form', {}, field(label, reason), el('button', { type: 'submit' }, title)), () => send(reason.value.trim())),
  );
}

function verifyForm(ticket: Ticket, ctx: ConsoleContext, run: Run): HTMLElement {
  const note = el('input', { name: 'note', maxlength: 2000 });
  const pass = el('button', { type: 'button', 'data-outcome': 'pass' }, 'Pass: close 通过结案');
  const fail = el('button', { type: 'button', 'data-outcome': 'fail' }, 'Fail: back for rework 不通过返工');
  const verify = (outcome: 'pass' | 'fail') =>
    run(outcome === 'pass' ? 'Verified and closed 核查通过' : 'Sent back for rework 已返工', () =>
      ctx.client.tickets.verify(
        ticket.id,
        { outcome, ...(note.value.trim() ? { note: note.value.trim() } : {}), expectedVersion: ticket.version },
        inMapCrs(ctx),
      ),
    );
  pass.addEventListener('click', () => void verify('pass'));
  fail.addEventListener('click', () => void verify('fail'));
  const photos = ticket.afterPhotos.length === 0 ? [el('p', { class: 'error' }, 'No after-photo 无处置后照片')] : [];
  return section(
    'Verify 核查',
    'verify',
    el('p', {}, 'Compare the photos above before deciding. 请对比处置前后照片。'),
    ...photos,
    field('Note 核查意见', note),
    el('div', { class: 'buttons' }, pass, fail),
  );
}

function rejectForm(ticket: Ticket, ctx: ConsoleContext, run: Run): HTMLElement {
  const reason = el(
    'select',
    { name: 'reason', required: true },
    el('option', { value: '' }, 'Choose a reason 选择原因'),
    ...REJECT_REASONS.map((r) => el('option', { value: r }, REJECT_LABEL[r])),
  );
  const note = el('input', { name: 'note', maxlength: 2000 });
  const form = submitOn(
    el('form', {}, field('Reason 驳回原因', reason), field('Note to the reporter 说明', note), el('button', { type: 'submit' }, 'Reject 驳回')),
    () =>
      run('Rejected 已驳回', () =>
        ctx.client.tickets.reject(
          ticket.id,
          {
            reason: reason.value as (typeof REJECT_REASONS)[number],
            ...(note.value.trim() ? { note: note.value.trim() } : {}),
            expectedVersion: ticket.version,
          },
          inMapCrs(ctx),
        ),
      ),
  );
  return section('Reject 驳回', 'reject', form);
}

function followUpForm(ticket: Ticket, ctx: ConsoleContext, run: Run): HTMLElement {
  const rating = el(
    'select',
    { name: 'rating', required: true },
    el('option', { value: '' }, 'Choose 选择'),
    ...[5, 4, 3, 2, 1].map((n) => el('option', { value: n }, `${n} ${'★'.repeat(n)}`)),
  );
  const comment = el('input', { name: 'comment', maxlength: 1000 });
  const form = submitOn(
    el(
      'form',
      {},
      field("Reporter's rating 满意度", rating),
      field('What they said 回访记录', comment),
      el('button', { type: 'submit' }, 'Record the call 记录回访'),
    ),
    () =>
      run('Follow-up recorded 已记录回访', () =>
        ctx.client.tickets.feedback(ticket.id, {
          rating: Number(rating.value),
          ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
          via: 'phone',
          expectedVersion: ticket.version,
        }),
      ),
  );
  return section('Phone follow-up 电话回访', 'feedback', form);
}
