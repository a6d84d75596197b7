import { errorText } from './error-text.js';
import { Check } from '@sinclair/typebox/value';
import { CreateTicketInput } from '@civicloop/model/report';
import { randomId, type CategoryCatalogue, type NearbyReport, type Ticket } from '@civicloop/sdk';
import { h, uid } from './dom.js';
import { readableTime, type Language, type MessageKey, type Translate } from './i18n.js';
import { locate, type ConfiguredPoint, type Fix } from './location.js';
import type { QueuedReport } from './outbox.js';
import { ReportRefused } from './reporting.js';
import { photoPicker } from './photo-picker.js';
import { categoryPicker } from './category-picker.js';
import { questionFields } from './questions.js';
import type { MapTiles, PinMap, PinnedPoint } from './pin-map.js';

export interface ReportFormContext {
  t: Translate;
  language: Language;
  publishableKey: string;
  /** The `default-location` attribute: where a report without a device fix is placed. */
  fallbackPoint: ConfiguredPoint | undefined;
  /** The place a scanned QR entry code names: the report starts there, without asking the device. */
  presetPlace: (ConfiguredPoint & { name: string }) | undefined;
  catalogue: () => Promise<CategoryCatalogue>;
  /** Sends now, or queues when offline; resolves with the ticket, or 'queued'. Photos uploaded so far are reported as they go. */
  submit: (item: Omit<QueuedReport, 'owner'>, onUpload: (uploaded: number, total: number) => void) => Promise<Ticket | 'queued'>;
  announce: (text: string) => void;
  /** Shows the resident's reports with this one in focus. */
  follow: (ticketId: string) => void;
  /** Open reports of the category near the point that the resident may follow instead (none when they cannot be asked). */
  nearby: (category: string, point: { lat: number; lon: number; crs?: 'wgs84' | 'gcj02' | 'bd09' }) => Promise<NearbyReport[]>;
  /** Follows one of them instead of reporting; resolves with its number. */
  followInstead: (ticketId: string) => Promise<string>;
  /** The `map-tiles` attributes: with them the place is shown on a small map with a movable pin. */
  tiles: MapTiles | undefined;
  /** The address at a point from the gateway's geocoder (null: none known); rejects with CL_ERR_GEOCODER_OFF when there is none. */
  reverseGeocode: (point: { lat: number; lon: number; crs: 'wgs84' | 'gcj02' | 'bd09' }) => Promise<string | null>;
}

const RECENT_KEY = 'civicloop:recent-categories';
const RECENT_MAX = 5;
/** Accuracy recorded for a report placed at the estate's point rather than a device fix. */
const FALLBACK_ACCURACY_M = 500;
/** How near a QR entry code's place is taken to be: the code hangs at the place it names. */
const CODE_ACCURACY_M = 10;

function recentCategories(): string[] {
  try {
    return (JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as string[]).slice(0, RECENT_MAX);
  } catch {
    return [];
  }
}

function rememberCategory(code: string): void {
  localStorage.setItem(RECENT_KEY, JSON.stringify([code, ...recentCategories().filter((c) => c !== code)].slice(0, RECENT_MAX)));
}

/** The report form: category, photos, location, description, contact, anonymity, submit. */
// Long: a component without a framework: its elements, its state and their event handlers share one scope.
export function reportForm(ctx: ReportFormContext): HTMLElement {
  const { t } = ctx;
  const ids = {
    address: uid('cl-address'),
    description: uid('cl-desc'),
    contact: uid('cl-contact'),
    anonymous: uid('cl-anon'),
    locStatus: uid('cl-loc'),
  };
  let fix: Fix | undefined;
  /** Where the resident put the pin by moving the map; it wins over the device's fix. */
  let pinned: PinnedPoint | undefined;
  let pin: PinMap | undefined;
  let catalogue: CategoryCatalogue | undefined;

  const questions = questionFields({ t, language: ctx.language });
  const category = categoryPicker({
    t,
    language: ctx.language,
    onChange: () => {
      if (formError.textContent === t('invalid', { f: t('category') })) formError.textContent = '';
      // The chosen type's own questions, asked right below it.
      questions.show(catalogue?.categories.find((c) => c.code === category.value()));
      void offerNearby();
    },
  });
  const progress = h('progress', { part: 'progress', hidden: true, max: 1, value: 0, 'aria-label': t('uploading', { n: 0, total: 0 }) });
  const progressText = h('p', { class: 'hint', role: 'status', hidden: true });
  const picker = photoPicker({ t });
  const locStatus = h('p', { id: ids.locStatus, class: 'hint', role: 'status' }, t('locateOnStart'));
  const nearbyList = h('section', { part: 'nearby', hidden: true, 'aria-live': 'polite' });
  const address = h('input', {
    id: ids.address,
    type: 'text',
    maxlength: 300,
    placeholder: t('addressHint'),
    autocomplete: 'street-address',
    part: 'input',
    'aria-describedby': ids.locStatus,
  });
  const addressRequired = h('span', { class: 'req', 'aria-hidden': 'true', hidden: true }, ' *');
  const description = h('textarea', { id: ids.description, required: true, maxlength: 4000, part: 'input' });
  const contact = h('input', { id: ids.contact, type: 'tel', maxlength: 100, autocomplete: 'tel', part: 'input' });
  const anonymous = h('input', { id: ids.anonymous, type: 'checkbox' });
  const formError = h('p', { class: 'error', role: 'alert', part: 'error' });
  const submitButton = h('button', { type: 'submit', class: 'primary', part: 'submit' }, t('submit'));
  const retryLocation = h('button', { type: 'button', hidden: true, onclick: () => findLocation() }, t('locationRetry'));
  const mapBox = h('div', { class: 'map-box', hidden: true });
  const mapHint = h('p', { class: 'hint', hidden: true }, t('mapHint'));

  const form = h(
    'form',
    // The location is asked for once the resident starts a report, not when the page opens.
    { part: 'form', novalidate: true, onsubmit: (event: Event) => onSubmit(event), onfocusin: () => startLocating() },
    h('p', { class: 'hint' }, h('span', { class: 'req', 'aria-hidden': 'true' }, '* '), t('requiredNote')),
    ...picker.elements,
    category.element,
    questions.element,
    h(
      'fieldset',
      {},
      h('legend', {}, t('location')),
      locStatus,
      retryLocation,
      mapBox,
      mapHint,
      h('label', { for: ids.address }, t('address'), addressRequired),
      address,
    ),
    nearbyList,
    h('label', { for: ids.description }, t('description'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    description,
    h('label', { for: ids.contact }, t('contact')),
    contact,
    h('label', { class: 'check', for: ids.anonymous }, anonymous, t('anonymous')),
    formError,
    progress,
    progressText,
    h('div', { class: 'actions' }, submitButton),
  );
  const container = h('div', {}, form);

  /** Without a place from the device or the pin, the address must be typed: marked required. */
  function needAddress(on: boolean): void {
    address.required = on;
    addressRequired.hidden = !on;
  }

  // biome-ignore lint/correctness/noUnusedVariables: read by `??=` so that a second start does not look again
  let locating: Promise<void> | undefined;
  function startLocating(): void {
    locating ??= ctx.presetPlace ? Promise.resolve() : findLocation();
  }

  /** A QR entry code's place: pinned from the start, its name as the address. */
  function usePresetPlace(place: ConfiguredPoint & { name: string }): void {
    pinned = { lat: place.lat, lon: place.lon, crs: place.crs ?? 'wgs84', accuracy: CODE_ACCURACY_M };
    address.value = autoAddress = place.name;
    locStatus.textContent = t('placeFromCode', { p: place.name });
    needAddress(false);
    void showMap(place);
  }

  async function findLocation(): Promise<void> {
    locStatus.textContent = t('locating');
    retryLocation.hidden = true;
    try {
      fix = await locate();
      locStatus.textContent = t('located', { m: fix.accuracy });
      needAddress(false);
      void offerNearby();
      if (!pinned) {
        void lookUpAddress(fix);
        void showMap(fix);
      }
    } catch {
      fix = undefined;
      needAddress(!pinned);
      retryLocation.hidden = false;
      // No fix: the map opens on the estate's point, and the resident moves it to the problem.
      if (ctx.tiles && ctx.fallbackPoint && !pinned) {
        locStatus.textContent = t('locationDeniedMap');
        void showMap(ctx.fallbackPoint);
      } else {
        locStatus.textContent = t('locationDenied');
      }
    }
  }

  /** The small map with its pin, when tiles are configured: Leaflet, in a file of its own, loaded only now. */
  async function showMap(point: { lat: number; lon: number; crs?: 'wgs84' | 'gcj02' | 'bd09' }): Promise<void> {
    if (!ctx.tiles) return;
    if (pin) return pin.moveTo(point);
    mapBox.hidden = mapHint.hidden = false;
    try {
      const { pinMap } = await import('./pin-map.js');
      pin ??= pinMap(mapBox, point, ctx.tiles, t('mapLabel'), (moved) => {
        pinned = moved;
        locStatus.textContent = t('pinMoved');
        needAddress(false);
        address.removeAttribute('aria-invalid');
        void offerNearby();
        void lookUpAddress(moved);
      });
    } catch {
      // The map could not load (offline, say): the text fields work as without one.
      mapBox.hidden = mapHint.hidden = true;
    }
  }

  /**
   * The address under the point, from the gateway's geocoder, into the address field, unless the
   * resident typed one of their own. Quietly nothing when no geocoder is configured or it fails.
   */
  let autoAddress = '';
  let lookups = 0;
  let geocoderOff = false;
  async function lookUpAddress(point: { lat: number; lon: number; crs?: 'wgs84' | 'gcj02' | 'bd09' }): Promise<void> {
    if (geocoderOff || (address.value.trim() && address.value !== autoAddress)) return;
    const asked = ++lookups;
    try {
      const found = await ctx.reverseGeocode({ lat: point.lat, lon: point.lon, crs: point.crs ?? 'wgs84' });
      if (asked !== lookups || !found || (address.value.trim() && address.value !== autoAddress)) return;
      address.value = autoAddress = found;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'CL_ERR_GEOCODER_OFF') geocoderOff = true;
    }
  }

  /**
   * "Is it one of these?": once the category and the place are known, the open reports of that
   * category nearby, each with a button to follow it instead of reporting it again.
   */
  let asked = '';
  async function offerNearby(): Promise<void> {
    const point = pinned ?? fix ?? ctx.fallbackPoint;
    const question = point && category.value() ? `${category.value()}|${point.lat}|${point.lon}` : '';
    if (question === asked) return;
    asked = question;
    if (!question || !point) {
      nearbyList.hidden = true;
      return;
    }
    const found = await ctx
      .nearby(category.value(), { lat: point.lat, lon: point.lon, ...(point.crs ? { crs: point.crs } : {}) })
      .catch(() => [] as NearbyReport[]);
    // Only the answer to the latest question is shown.
    if (asked !== question) return;
    const others = found.filter((report) => !report.mine);
    nearbyList.hidden = others.length === 0;
    nearbyList.replaceChildren(
      h('h3', {}, t('nearbyTitle')),
      h('p', { class: 'hint' }, t('nearbyHint')),
      h(
        'ul',
        { class: 'nearby' },
        others.map((report) => {
          const button = h('button', { type: 'button', part: 'follow-instead', 'data-ticket': report.id }, t('nearbyFollow'));
          button.onclick = async () => {
            button.disabled = true;
            try {
              const number = await ctx.followInstead(report.id);
              showOutcome(t('nearbyFollowed', { n: number }), '', report.id);
            } catch (error) {
              formError.textContent = t('error', { e: errorText(error, ctx.language) });
              button.disabled = false;
            }
          };
          return h(
            'li',
            { 'data-nearby': report.id },
            h('p', {}, t('nearbyItem', { d: report.description, m: report.distanceMeters, s: t(`status_${report.status}` as MessageKey) })),
            button,
          );
        }),
      ),
    );
  }

  function fail(field: HTMLElement, message: string): void {
    formError.textContent = message;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    formError.textContent = '';
    for (const field of [description, address]) field.removeAttribute('aria-invalid');
    category.invalid(false);
    const addressText = address.value.trim();
    if (!category.value()) {
      formError.textContent = t('invalid', { f: t('category') });
      return category.invalid(true);
    }
    const answered = questions.answers();
    if ('missing' in answered) {
      formError.textContent = t('invalid', { f: answered.missing });
      return;
    }
    if (!description.value.trim()) return fail(description, t('invalid', { f: t('description') }));
    const point = pinned ?? fix ?? (addressText && ctx.fallbackPoint ? { ...ctx.fallbackPoint, accuracy: FALLBACK_ACCURACY_M } : undefined);
    if (!point) return fail(address, t('needLocation'));
    const input = {
      category: category.value(),
      description: description.value.trim(),
      // The device's fix says it is WGS-84, the pin says the tiles' system; the estate's configured point says its system if it has one.
      location: {
        lat: point.lat,
        lon: point.lon,
        accuracy: point.accuracy,
        ...(point.crs ? { crs: point.crs } : {}),
        ...(addressText ? { address: addressText } : {}),
      },
      channel: 'widget' as const,
      ...(contact.value.trim() ? { contact: contact.value.trim() } : {}),
      ...(anonymous.checked ? { anonymous: true } : {}),
      ...(answered.answers ? { answers: answered.answers } : {}),
    };
    // The schema the gateway enforces, checked here too (Value.Check: no eval under a strict CSP).
    if (!Check(CreateTicketInput, { ...input, photos: picker.photos().map(() => ({ ref: 'pending' })) }))
      return fail(description, t('invalid', { f: t('description') }));
    submitButton.disabled = true;
    submitButton.textContent = t('submitting');
    try {
      const item: Omit<QueuedReport, 'owner'> = {
        // Not crypto.randomUUID: a portal served over plain HTTP (an intranet address) has none.
        key: `widget-${randomId()}`,
        publishableKey: ctx.publishableKey,
        input,
        photos: picker.photos().map((p) => p.blob),
        savedAt: new Date().toISOString(),
      };
      const outcome = await ctx.submit(item, (uploaded, total) => showProgress(uploaded, total));
      rememberCategory(input.category);
      if (outcome === 'queued') showOutcome(t('queued'));
      else showOutcome(t('submitted', { n: outcome.number }), expectedBy(outcome), outcome.id);
    } catch (error) {
      // The draft stays in the form: nothing the resident wrote is lost.
      formError.textContent = error instanceof ReportRefused ? error.message : t('error', { e: errorText(error, ctx.language) });
    } finally {
      submitButton.disabled = false;
      submitButton.textContent = t('submit');
      progress.hidden = progressText.hidden = true;
    }
  }

  /** Photos go up one by one before the report: how many are up (whole photos, not bytes). */
  function showProgress(uploaded: number, total: number): void {
    if (total === 0) return;
    progress.hidden = progressText.hidden = false;
    progress.max = total;
    progress.value = uploaded;
    const text = uploaded < total ? t('uploading', { n: uploaded + 1, total }) : t('uploaded', { total });
    progress.setAttribute('aria-label', text);
    progressText.textContent = text;
  }

  /** When it should be dealt with: its deadline once dispatched, else the category's usual time. */
  function expectedBy(ticket: Ticket): string {
    if (ticket.sla) return t('expectedBy', { time: readableTime(ticket.sla.resolveBy, ctx.language) });
    const minutes = catalogue?.categories.find((c) => c.code === ticket.category)?.sla.resolve;
    if (!minutes) return '';
    return minutes >= 1440 ? t('expectedDays', { d: Math.round(minutes / 1440) }) : t('expectedHours', { h: Math.max(1, Math.round(minutes / 60)) });
  }

  function showOutcome(text: string, expected = '', ticketId?: string): void {
    const again = h('button', { type: 'button', part: 'submit', onclick: () => reset() }, t('newReport' satisfies MessageKey));
    const follow = ticketId ? h('button', { type: 'button', class: 'primary', part: 'follow', onclick: () => ctx.follow(ticketId) }, t('followIt')) : '';
    container.replaceChildren(
      h('p', { class: 'done', role: 'status', part: 'outcome', tabindex: -1 }, text),
      expected ? h('p', { class: 'hint', part: 'expected' }, expected) : '',
      h('div', { class: 'actions' }, follow, again),
    );
    ctx.announce(expected ? `${text} ${expected}` : text);
    (container.firstElementChild as HTMLElement).focus();
  }

  function reset(): void {
    picker.clear();
    form.reset();
    asked = '';
    pinned = undefined;
    autoAddress = '';
    // The next report from a scanned code starts at the same place.
    if (ctx.presetPlace) usePresetPlace(ctx.presetPlace);
    else if (fix) {
      pin?.moveTo(fix);
      locStatus.textContent = t('located', { m: fix.accuracy });
      void lookUpAddress(fix);
    }
    nearbyList.hidden = true;
    // The type just used now leads the list.
    if (catalogue) category.fill(catalogue, recentCategories());
    category.reset();
    questions.show(undefined);
    container.replaceChildren(form);
    picker.focus();
  }

  if (ctx.presetPlace) usePresetPlace(ctx.presetPlace);
  ctx.catalogue().then(
    (loaded) => {
      catalogue = loaded;
      category.fill(loaded, recentCategories());
    },
    (error: unknown) => {
      formError.textContent = t('error', { e: errorText(error, ctx.language) });
    },
  );
  return container;
}
