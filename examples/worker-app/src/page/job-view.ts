import type { Ticket } from '@civicloop/sdk';
import { PhotoError, preparePhoto } from '@civicloop/widget/photos';
import { h } from './dom.js';
import { statusWord, t, when, type Words } from './i18n.js';
import type { JobCommand, QueuedAction } from './outbox.js';

export interface JobViewContext {
  categoryName: (job: Pick<Ticket, 'category' | 'categoryAsReported'>) => string;
  /** Where a ticket's photo is (the SDK's media.url). */
  photoUrl: (photo: Ticket['photos'][number]) => string;
  timeZone: string;
  /** Within this distance the gateway marks arrival by itself (shown to the worker). */
  arrivalMeters: number;
  /** Takes an action: queued on the phone, sent now when online. */
  act: (ticket: Ticket, command: JobCommand, body: Record<string, unknown>, photo?: Blob) => Promise<void>;
  back: () => void;
}

/** Where to hand the route to the phone's map app: the geo: URI (Android asks which app), and AMap's own link. */
export function navigationLinks(ticket: Ticket): { geo: string; amap: string } {
  const { lat, lon } = ticket.location;
  const label = encodeURIComponent(ticket.number);
  return {
    geo: `geo:${lat},${lon}?q=${lat},${lon}(${label})`,
    // AMap converts from WGS-84 itself (coordinate=wgs84); callnative opens its app when installed.
    amap: `https://uri.amap.com/marker?position=${lon},${lat}&name=${label}&coordinate=wgs84&callnative=1`,
  };
}

/** One job, full screen: what and where, and the buttons for the state it is (or will be) in. */
export function renderJob(section: HTMLElement, ticket: Ticket, status: Ticket['status'], queued: QueuedAction[], context: JobViewContext): void {
  const links = navigationLinks(ticket);
  const due = ticket.sla?.resolveBy;
  const late =
    due !== undefined && Date.parse(due) < Date.now() && (status === 'accepted' || status === 'on_site' || status === 'dispatched' || status === 'rework');
  const place = ticket.location.address;
  const parts: (Node | undefined)[] = [
    h('button', { type: 'button', class: 'back' }, `← ${t('back')}`),
    h('h2', { id: 'job-title' }, `${context.categoryName(ticket)} `, h('small', {}, ticket.number)),
    h(
      'p',
      { class: 'state', 'data-status': status, 'data-waiting': String(queued.length) },
      statusWord(status),
      queued.length ? h('span', { class: 'pending' }, ` · ${queued.length} ${t('pending')}`) : undefined,
    ),
    ticket.description ? h('p', { class: 'description' }, ticket.description) : undefined,
    place ? h('p', { class: 'place' }, place) : undefined,
    h('p', { class: 'muted' }, t('reported', { at: when(ticket.createdAt, context.timeZone) })),
    due ? h('p', { class: late ? 'due late' : 'due' }, t('due', { at: when(due, context.timeZone) }), late ? ` · ${t('breached')}` : '') : undefined,
    ticket.extension?.status === 'pending' ? h('p', { class: 'muted' }, t('extensionPending')) : undefined,
    ticket.photos.length
      ? h(
          'div',
          { class: 'photos' },
          ...ticket.photos.map((photo) =>
            h('img', {
              src: context.photoUrl(photo),
              alt: ticket.description ? ticket.description.slice(0, 80) : context.categoryName(ticket),
              loading: 'lazy',
            }),
          ),
        )
      : undefined,
    h(
      'p',
      { class: 'navigate' },
      h('a', { class: 'button', href: links.geo }, t('navigate')),
      ' ',
      h('a', { class: 'button secondary', href: links.amap, target: '_blank', rel: 'noopener' }, t('navigateAmap')),
    ),
    h('div', { class: 'actions' }, ...actionsFor(ticket, status, context)),
    h('p', { class: 'result', role: 'status' }),
  ];
  section.replaceChildren(...parts.filter((part): part is Node => part !== undefined));
  section.querySelector<HTMLButtonElement>('button.back')!.addEventListener('click', context.back);
}

function actionsFor(ticket: Ticket, status: Ticket['status'], context: JobViewContext): Node[] {
  const button = (label: keyof Words, command: JobCommand, primary = true) => {
    const node = h('button', { type: 'button', class: primary ? 'primary' : 'secondary', 'data-command': command }, t(label));
    node.addEventListener('click', () => void run(node, () => context.act(ticket, command, {})));
    return node;
  };
  const more = ticket.extension?.status === 'pending' ? [] : [reasonForm('extend', 'request_extension', ticket, context, true)];
  switch (status) {
    case 'dispatched':
      return [button('accept', 'accept'), reasonForm('returnJob', 'return', ticket, context, false)];
    case 'accepted':
      return [
        button('arrive', 'arrive'),
        h('p', { class: 'muted' }, t('arriveAuto', { m: context.arrivalMeters })),
        ...more,
        reasonForm('returnJob', 'return', ticket, context, false),
      ];
    case 'on_site':
      return [resolveForm(ticket, context), ...more];
    case 'rework':
      return [button('rework', 'rework'), ...more];
    default:
      return [];
  }
}

/** Runs an action from a control: disabled while it runs, its outcome said under the job. */
async function run(control: HTMLElement, action: () => Promise<void>): Promise<void> {
  const result = control.closest('section')?.querySelector('.result');
  control.toggleAttribute('disabled', true);
  try {
    await action();
  } catch (error) {
    if (result) result.textContent = t('refused', { why: error instanceof Error ? error.message : String(error) });
  } finally {
    control.toggleAttribute('disabled', false);
  }
}

/** Return (with a reason) or ask for more time (minutes and a reason): folded until opened. */
function reasonForm(label: keyof Words, command: 'return' | 'request_extension', ticket: Ticket, context: JobViewContext, withMinutes: boolean): HTMLElement {
  const id = `${command}-${ticket.id}`;
  const reason = h('textarea', { id: `${id}-reason`, name: 'reason', required: true, maxlength: '500', rows: '2' });
  const minutes = h('input', { id: `${id}-minutes`, name: 'minutes', type: 'number', min: '15', max: '14400', step: '15', value: '120', required: true });
  const form = h(
    'form',
    { class: 'reason', 'data-command': command },
    withMinutes ? h('label', { for: minutes.id }, t('extendMinutes')) : undefined,
    withMinutes ? minutes : undefined,
    h('label', { for: reason.id }, t('reason'), h('span', { class: 'required' }, ` (${t('required')})`)),
    reason,
    h('button', { type: 'submit', class: 'secondary' }, t('send')),
  );
  form.addEventListener('submit', (submitted) => {
    submitted.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      reason.setCustomValidity(t('reasonNeeded'));
      reason.reportValidity();
      return;
    }
    const body = withMinutes ? { minutes: Number(minutes.value), reason: text } : { reason: text };
    void run(form.querySelector('button')!, () => context.act(ticket, command, body));
  });
  reason.addEventListener('input', () => reason.setCustomValidity(''));
  return h('details', { class: 'more' }, h('summary', {}, t(label)), form);
}

/** Resolve: the camera's after-photo (recompressed, EXIF gone, checked before it is kept) and a note. */
function resolveForm(ticket: Ticket, context: JobViewContext): HTMLElement {
  const id = `resolve-${ticket.id}`;
  const camera = h('input', { id: `${id}-photo`, type: 'file', accept: 'image/*', capture: 'environment', class: 'camera-input' });
  const preview = h('img', { class: 'preview', alt: '', hidden: true });
  const problem = h('p', { class: 'problem', role: 'alert' });
  const note = h('textarea', { id: `${id}-note`, name: 'note', maxlength: '2000', rows: '3' });
  let photo: Blob | undefined;
  camera.addEventListener('change', async () => {
    const file = camera.files?.[0];
    problem.textContent = '';
    if (!file) return;
    try {
      photo = await preparePhoto(file);
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(photo);
      preview.alt = t('photo');
      preview.hidden = false;
      cameraLabel.textContent = t('photoAgain');
    } catch (error) {
      photo = undefined;
      preview.hidden = true;
      problem.textContent = error instanceof PhotoError ? t(error.problem) : String(error);
    }
  });
  const cameraLabel = h('span', {}, t('photo'));
  const form = h(
    'form',
    { class: 'resolve' },
    h('label', { for: camera.id, class: 'camera' }, cameraLabel, h('span', { class: 'required' }, ` (${t('required')})`)),
    camera,
    preview,
    problem,
    h('label', { for: note.id }, t('note')),
    note,
    h('button', { type: 'submit', class: 'primary', 'data-command': 'resolve' }, t('resolve')),
  );
  form.addEventListener('submit', (submitted) => {
    submitted.preventDefault();
    if (!photo) {
      problem.textContent = t('photoNeeded');
      return;
    }
    const text = note.value.trim();
    void run(form.querySelector('button[type=submit]')!, () => context.act(ticket, 'resolve', text ? { note: text } : {}, photo));
  });
  return form;
}
