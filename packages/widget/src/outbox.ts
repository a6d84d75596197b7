import { createStore, del, set, values, type UseStore } from 'idb-keyval';
import type { CreateTicketInput } from '@civicloop/model/report';

/** A report made while offline, kept in IndexedDB until the gateway has it. */
export interface QueuedReport {
  /** Also the Idempotency-Key of its create: however often it is sent, one ticket results. */
  key: string;
  publishableKey: string;
  input: Omit<CreateTicketInput, 'photos'>;
  photos: Blob[];
  savedAt: string;
}

export type FlushResult = { item: QueuedReport; number: string } | { item: QueuedReport; error: Error };

/**
 * The offline queue. Flushing is serialised across tabs with the Web Locks API and within a tab
 * by a promise; the idempotency key makes even an overlapping send harmless.
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

  async pending(): Promise<QueuedReport[]> {
    const all = await values<QueuedReport>(this.store);
    return all.filter((item) => item.publishableKey === this.publishableKey).sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  }

  /**
   * Sends each queued report; one that arrives is removed, one the gateway refuses is removed
   * and reported (it would be refused again), and a network failure stops the round.
   */
  flush(send: (item: QueuedReport) => Promise<string>, isNetworkError: (error: unknown) => boolean, onResult: (result: FlushResult) => void): Promise<void> {
    const round = async () => {
      for (const item of await this.pending()) {
        try {
          const number = await send(item);
          await del(item.key, this.store);
          onResult({ item, number });
        } catch (error) {
          if (isNetworkError(error)) return;
          await del(item.key, this.store);
          onResult({ item, error: error instanceof Error ? error : new Error(String(error)) });
        }
      }
    };
    const locked = (): Promise<void> => (navigator.locks ? navigator.locks.request(`civicloop-outbox:${this.publishableKey}`, round).then(() => undefined) : round());
    this.running ??= locked().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
