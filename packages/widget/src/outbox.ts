import { createStore, del, set, values, type UseStore } from 'idb-keyval';
import type { CreateTicketInput } from '@civicloop/model/report';

/** A report made while offline, kept in IndexedDB until the gateway has it. */
export interface QueuedReport {
  /** Also the Idempotency-Key of its create: however often it is sent, one ticket results. */
  key: string;
  publishableKey: string;
  /**
   * Who wrote it: the tenant and subject of the resident's token (`<tenant>|<sub>`; for a browser
   * without a login, its anonymous identity). It is sent only under that same identity.
   */
  owner: string;
  input: Omit<CreateTicketInput, 'photos'>;
  photos: Blob[];
  savedAt: string;
}

export type FlushResult = { item: QueuedReport; number: string } | { item: QueuedReport; error: Error };

export interface FlushOptions {
  /** Whose reports may be sent now; nothing is sent when no one is signed in. */
  owner: string;
  send: (item: QueuedReport) => Promise<string>;
  /** An error after which the round stops and the report stays queued (offline, signed out). */
  keepAndStop: (error: unknown) => boolean;
  onResult: (result: FlushResult) => void;
}

/**
 * The offline queue. Each report belongs to the resident who wrote it and is sent only while
 * that resident is signed in: on a shared browser, a report left by one resident whose session
 * ended is never filed under the next one. Flushing is serialised across tabs with the Web Locks
 * API and within a tab by a promise; the idempotency key makes even an overlapping send harmless.
 */
export class Outbox {
  private readonly store: UseStore;
  private running: Promise<void> | undefined;

  constructor(private readonly publishableKey: string) {
    this.store = createStore('civicloop-widget', 'outbox');
  }

  add(item: QueuedReport): Promise<void> {
    return set(item.key, item, this.store);
  }

  /** Whether any report is queued in this browser for this tenant, whoever wrote it. */
  async hasAny(): Promise<boolean> {
    return (await values<QueuedReport>(this.store)).some((item) => item.publishableKey === this.publishableKey);
  }

  /** The owner's queued reports, oldest first. Reports saved by earlier versions without an owner are never sent. */
  async pending(owner: string): Promise<QueuedReport[]> {
    const all = await values<QueuedReport>(this.store);
    return all.filter((item) => item.publishableKey === this.publishableKey && item.owner === owner).sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  }

  /**
   * Sends each of the owner's queued reports; one that arrives is removed, one the gateway refuses
   * is removed and reported (it would be refused again), and a failure that may pass (offline,
   * signed out) stops the round with the report kept.
   */
  flush(options: FlushOptions): Promise<void> {
    const round = async () => {
      for (const item of await this.pending(options.owner)) {
        try {
          const number = await options.send(item);
          await del(item.key, this.store);
          options.onResult({ item, number });
        } catch (error) {
          if (options.keepAndStop(error)) return;
          await del(item.key, this.store);
          options.onResult({ item, error: error instanceof Error ? error : new Error(String(error)) });
        }
      }
    };
    const locked = (): Promise<void> =>
      navigator.locks ? navigator.locks.request(`civicloop-outbox:${this.publishableKey}`, round).then(() => undefined) : round();
    this.running ??= locked().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
