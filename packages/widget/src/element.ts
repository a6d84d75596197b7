import { errorText } from './error-text.js';
import type { CategoryCatalogue, Ticket } from '@civicloop/sdk';
import { h, uid } from './dom.js';
import { pickLanguage, translator, type Language, type Translate } from './i18n.js';
import { parsePoint, placeFromPage } from './location.js';
import { isCrsName } from '@civicloop/model/report';
import type { MapTiles } from './pin-map.js';
import { myReports } from './my-reports.js';
import { Outbox, type QueuedReport } from './outbox.js';
import { reportForm } from './report-form.js';
import { ReportRefused, isNetworkError, isSignedOut, sendReport } from './reporting.js';
import { Session } from './session.js';
import { applyStyles } from './styles.js';

/** An error as the page is told of it: its message, and its CL_ERR_* code when it has one. */
function errorDetail(error: unknown): CivicLoopReportEvents['civicloop-error'] {
  const code = (error as { code?: unknown } | null)?.code;
  return { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
}

/** What the element tells the page, as bubbling, composed CustomEvents. */
export interface CivicLoopReportEvents {
  'civicloop-submitted': { ticket: Ticket };
  'civicloop-queued': { key: string };
  'civicloop-sent': { key: string; number: string };
  'civicloop-status': { ticket: Ticket };
  'civicloop-error': { message: string; code?: string };
  /** The resident's session ended (their token cannot be renewed): the page should sign them in again. */
  'civicloop-signin-required': { message: string };
}

/**
 * <civicloop-report publishable-key="cl_pk_..." gateway="https://...">: report a problem and
 * follow one's reports to closure, inline or behind a floating button (mode="floating").
 */
export class CivicLoopReport extends HTMLElement {
  static readonly observedAttributes = ['lang', 'mode'];

  /** The host page's resident token callback; called whenever a fresh token is needed. */
  getToken: (() => string | Promise<string>) | undefined;

  #root: ShadowRoot;
  #session: Session | undefined;
  #outbox: Outbox | undefined;
  #catalogue: Promise<CategoryCatalogue> | undefined;
  #live: AbortController | undefined;
  #dialog: HTMLDialogElement | undefined;
  #launcher: HTMLButtonElement | undefined;
  #announcer = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite', part: 'announcer' });
  #mine: ReturnType<typeof myReports> | undefined;
  #showMine: ((ticketId: string) => void) | undefined;
  #onOnline = () => void this.flush();

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open', delegatesFocus: true });
  }

  get language(): Language {
    return pickLanguage(this.getAttribute('lang'), document.documentElement.lang);
  }

  connectedCallback(): void {
    const publishableKey = this.getAttribute('publishable-key');
    const gateway = this.getAttribute('gateway');
    applyStyles(this.#root, this.getAttribute('nonce'));
    if (!publishableKey || !gateway) {
      this.#root.replaceChildren(
        h('p', { class: 'error', role: 'alert' }, '<civicloop-report> needs the publishable-key and gateway attributes (see docs/widget.md).'),
      );
      return;
    }
    this.#session ??= new Session(() => ({
      gateway,
      publishableKey,
      token: this.getAttribute('token'),
      tokenUrl: this.getAttribute('token-url'),
      getToken: this.getToken,
    }));
    this.#outbox ??= new Outbox(publishableKey);
    this.render();
    addEventListener('online', this.#onOnline);
    if (navigator.onLine) void this.flush();
    if (this.#session.hasIdentity()) this.#listen();
  }

  disconnectedCallback(): void {
    removeEventListener('online', this.#onOnline);
    this.#live?.abort();
    this.#live = undefined;
  }

  attributeChangedCallback(): void {
    if (this.isConnected && this.#session) this.render();
  }

  /** Opens the dialog (mode="floating"); focus returns to the launcher on close. */
  open(): void {
    if (this.#dialog && !this.#dialog.open) this.#dialog.showModal();
  }

  close(): void {
    this.#dialog?.close();
  }

  /**
   * Sends reports queued while offline, those of the resident signed in now and no one else's.
   * Runs by itself on load and when the browser is back online.
   */
  async flush(): Promise<void> {
    const session = this.#session;
    if (!session || !this.#outbox) return;
    const t = translator(this.language);
    // Nothing queued: do not ask for a token (nor make an anonymous identity) for nothing.
    if (!(await this.#outbox.hasAny())) return;
    let current: Awaited<ReturnType<Session['current']>>;
    try {
      current = await session.current();
    } catch {
      // Offline or signed out: the queue waits for its owner.
      return;
    }
    await this.#outbox.flush({
      owner: current.owner,
      send: async (item) => (await sendReport(current.client, item)).number,
      keepAndStop: (error) => isNetworkError(error) || isSignedOut(error),
      onResult: (result) => {
        if ('number' in result) {
          this.#announce(t('queuedSent', { n: result.number }));
          this.#emit('civicloop-sent', { key: result.item.key, number: result.number });
          this.#listen();
          void this.#mine?.refresh();
        } else {
          this.#announce(t('queuedFailed', { e: errorText(result.error, this.language) }));
          this.#emit('civicloop-error', errorDetail(result.error));
        }
      },
    });
  }

  /** map-tiles (a raster template), map-attribution and map-crs (the tiles' system, wgs84 when absent). */
  #tiles(): MapTiles | undefined {
    const url = this.getAttribute('map-tiles');
    if (!url) return undefined;
    const crs = (this.getAttribute('map-crs') ?? 'wgs84').toLowerCase();
    if (!isCrsName(crs)) {
      this.#emit('civicloop-error', { message: `map-crs="${crs}" is not wgs84, gcj02 or bd09; the map is not shown.` });
      return undefined;
    }
    const attribution = this.getAttribute('map-attribution');
    return { url, crs, ...(attribution ? { attribution } : {}) };
  }

  private render(): void {
    const session = this.#session!;
    const t = translator(this.language);
    this.#catalogue ??= session.public.categories();
    const catalogue = () => this.#catalogue!;
    const announce = (text: string) => this.#announce(text);
    const form = reportForm({
      t,
      language: this.language,
      publishableKey: this.getAttribute('publishable-key')!,
      fallbackPoint: parsePoint(this.getAttribute('default-location')),
      presetPlace: placeFromPage(location.search),
      catalogue,
      announce,
      submit: (item, onUpload) => this.#submit(item, onUpload),
      follow: (ticketId) => this.#showMine?.(ticketId),
      nearby: (category, point) => session.resident.tickets.nearby({ category, ...point }),
      tiles: this.#tiles(),
      reverseGeocode: (point) => session.resident.reverseGeocode(point, { language: this.language }),
      followInstead: async (ticketId) => {
        // As whoever is signed in now, like a report.
        const { client } = await session.current();
        const { ticket } = await client.tickets.follow(ticketId);
        this.#listen();
        void this.#mine?.refresh();
        return ticket.number;
      },
    });
    this.#mine = myReports({ t, language: this.language, session, catalogue, announce, onStatus: (ticket) => this.#emit('civicloop-status', { ticket }) });
    const panel = h('div', { class: 'panel', part: 'panel' }, this.#tabs(t, form, this.#mine.element), this.#announcer);
    if (this.getAttribute('mode') === 'floating') {
      const titleId = uid('cl-title');
      this.#launcher = h(
        'button',
        { type: 'button', class: 'launcher primary', part: 'launcher', 'aria-haspopup': 'dialog', onclick: () => this.open() },
        t('launcher'),
      );
      this.#dialog = h(
        'dialog',
        { part: 'dialog', 'aria-labelledby': titleId, onclose: () => this.#launcher?.focus() },
        h(
          'div',
          { class: 'dialog-head' },
          h('h2', { id: titleId }, t('title')),
          h('button', { type: 'button', part: 'close', onclick: () => this.close() }, t('close')),
        ),
        panel,
      );
      this.#root.replaceChildren(this.#launcher, this.#dialog);
    } else {
      this.#dialog = undefined;
      this.#root.replaceChildren(panel);
    }
  }

  #tabs(t: Translate, report: HTMLElement, mine: HTMLElement): HTMLElement {
    const views = [
      { label: t('tabReport'), panel: report, id: uid('cl-tab') },
      { label: t('tabMine'), panel: mine, id: uid('cl-tab') },
    ];
    const panels = views.map((view) => h('div', { role: 'tabpanel', id: `${view.id}-panel`, 'aria-labelledby': view.id, part: 'tabpanel' }, view.panel));
    const tabs = views.map((view, index) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: view.id,
          'aria-controls': `${view.id}-panel`,
          part: 'tab',
          onclick: () => select(index),
          onkeydown: (event: KeyboardEvent) => onKey(event, index),
        },
        view.label,
      ),
    );
    const select = (index: number, focus = false) => {
      tabs.forEach((tab, i) => {
        tab.setAttribute('aria-selected', String(i === index));
        tab.tabIndex = i === index ? 0 : -1;
        panels[i]!.hidden = i !== index;
      });
      if (focus) tabs[index]!.focus();
      if (index === 1) void this.#mine?.refresh();
    };
    // Arrow keys move between tabs, as the ARIA tabs pattern expects.
    const onKey = (event: KeyboardEvent, index: number) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step) select((index + step + tabs.length) % tabs.length, true);
    };
    select(this.getAttribute('view') === 'mine' ? 1 : 0);
    // "Follow it" after a report: My reports, with that report in focus once it is drawn.
    this.#showMine = (ticketId) => {
      select(1, true);
      void this.#mine?.focus(ticketId);
    };
    return h('div', {}, h('div', { role: 'tablist', 'aria-label': t('title') }, tabs), panels);
  }

  /**
   * Sends a report now, or queues it when offline for the resident who wrote it. A resident whose
   * token cannot be had (the session ended) is asked to sign in again: that is not "offline", and
   * the report is not queued, since it could not be told whose it is.
   */
  async #submit(draft: Omit<QueuedReport, 'owner'>, onUpload?: (uploaded: number, total: number) => void): Promise<Ticket | 'queued'> {
    const session = this.#session!;
    const t = translator(this.language);
    const queue = async (owner: string | undefined) => {
      if (!owner) return this.#signInRequired(t);
      await this.#outbox!.add({ ...draft, owner });
      this.#emit('civicloop-queued', { key: draft.key });
      return 'queued' as const;
    };
    if (!navigator.onLine) return queue(session.knownOwner());
    let current: Awaited<ReturnType<Session['current']>>;
    try {
      current = await session.current();
    } catch (error) {
      if (isNetworkError(error)) return queue(session.knownOwner());
      if (isSignedOut(error)) return this.#signInRequired(t);
      throw error;
    }
    try {
      const ticket = await sendReport(current.client, { ...draft, owner: current.owner }, onUpload);
      this.#emit('civicloop-submitted', { ticket });
      this.#listen();
      return ticket;
    } catch (error) {
      if (isNetworkError(error)) return queue(current.owner);
      if (isSignedOut(error)) return this.#signInRequired(t);
      this.#emit('civicloop-error', errorDetail(error));
      throw error;
    }
  }

  #signInRequired(t: Translate): never {
    const message = t('signIn');
    this.#emit('civicloop-signin-required', { message });
    throw new ReportRefused(message);
  }

  /** Live updates of the resident's reports over SSE; the SDK resumes after every drop. */
  #listen(): void {
    if (this.#live || !this.#session) return;
    const live = new AbortController();
    this.#live = live;
    const subscription = this.#session.resident.subscribe({ signal: live.signal });
    void (async () => {
      try {
        for await (const event of subscription) await this.#mine?.applyEvent(event);
      } catch {
        // Aborted on disconnect, or refused (identity gone): the list still works on demand.
      } finally {
        if (this.#live === live) this.#live = undefined;
      }
    })();
  }

  #announce(text: string): void {
    // Cleared first so that the same words twice are announced twice.
    this.#announcer.textContent = '';
    requestAnimationFrame(() => (this.#announcer.textContent = text));
  }

  #emit<K extends keyof CivicLoopReportEvents>(name: K, detail: CivicLoopReportEvents[K]): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}
