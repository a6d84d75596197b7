import { createStore, del, get, set, values, type UseStore } from 'idb-keyval';
import { randomId } from '@civicloop/sdk';

/** What a worker does to a job; each is one gateway command. */
export type JobCommand = 'accept' | 'arrive' | 'resolve' | 'rework' | 'request_extension' | 'return';

/** An action taken on the phone, kept in IndexedDB until the gateway has it. */
export interface QueuedAction {
  /** Also the Idempotency-Key of its command: however often it is sent, it happens once. */
  key: string;
  /** The worker who took it: sent only while they are signed in on this phone. */
  owner: string;
  ticketId: string;
  ticketNumber: string;
  command: JobCommand;
  body: Record<string, unknown>;
  /** resolve: the after-photo, until it is uploaded... */
  photo?: Blob;
  /** ...and then its stored reference, so a resend does not upload it again. */
  photoRef?: string;
  /** Order of taking: actions are sent in this order. */
  seq: number;
}

export type SendOutcome = 'sent' | 'already';
export type ActionResult = { action: QueuedAction; outcome: SendOutcome } | { action: QueuedAction; error: Error };

/**
 * The phone's outbox. Actions go out in the order they were taken; one the gateway refuses is
 * dropped with the rest of that job's actions (they depended on it) and reported; a failure that
 * may pass (offline, signed out, gateway busy) stops the round with everything kept. Rounds are
 * serialised across tabs (Web Locks) and within the tab; the idempotency key makes even an
 * overlapping send harmless.
 */
export class Outbox {
  private readonly store: UseStore = createStore('civicloop-worker-outbox', 'actions');
  private running: Promise<void> | undefined;
  private again = false;
  private seq = Date.now() * 1000;

  async add(action: Omit<QueuedAction, 'key' | 'seq'>): Promise<QueuedAction> {
    // Not crypto.randomUUID: a phone opening the app over plain HTTP (an intranet address) has none.
    const queued: QueuedAction = { ...action, key: randomId(), seq: ++this.seq };
    await set(queued.key, queued, this.store);
    return queued;
  }

  async pending(owner: string): Promise<QueuedAction[]> {
    return (await values<QueuedAction>(this.store)).filter((a) => a.owner === owner).sort((a, b) => a.seq - b.seq);
  }

  /** Keeps what was learnt while sending (the photo's reference), so the next attempt starts there. */
  async update(action: QueuedAction): Promise<void> {
    if (await get(action.key, this.store)) await set(action.key, action, this.store);
  }

  flush(
    owner: string,
    send: (action: QueuedAction) => Promise<SendOutcome>,
    keepAndStop: (error: unknown) => boolean,
    onResult: (result: ActionResult) => void,
  ): Promise<void> {
    const round = async () => {
      const refusedJobs = new Map<string, Error>();
      for (const action of await this.pending(owner)) {
        const earlier = refusedJobs.get(action.ticketId);
        if (earlier) {
          await del(action.key, this.store);
          onResult({ action, error: earlier });
          continue;
        }
        try {
          const outcome = await send(action);
          await del(action.key, this.store);
          onResult({ action, outcome });
        } catch (error) {
          if (keepAndStop(error)) return;
          const refused = error instanceof Error ? error : new Error(String(error));
          refusedJobs.set(action.ticketId, refused);
          await del(action.key, this.store);
          onResult({ action, error: refused });
        }
      }
    };
    const locked = (): Promise<void> => (navigator.locks ? navigator.locks.request(`civicloop-worker-outbox:${owner}`, round).then(() => undefined) : round());
    // An action taken while a round runs may have been read too late for it: one more round then.
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const rounds = async () => {
      do {
        this.again = false;
        await locked();
      } while (this.again);
    };
    this.running = rounds().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}

/** The worker's jobs as last read, so the app opens offline with them. */
export class JobCache<T> {
  private readonly store: UseStore = createStore('civicloop-worker-jobs', 'jobs');
  read(owner: string): Promise<T[] | undefined> {
    return get<T[]>(owner, this.store);
  }
  write(owner: string, jobs: T[]): Promise<void> {
    return set(owner, jobs, this.store);
  }
}
