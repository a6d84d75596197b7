import type { Redis, Cluster } from 'ioredis';
import { duplicateForBlocking } from './connect.js';

export type StreamEntry = [id: string, fields: string[]];
type Listener = (entries: StreamEntry[]) => void;

/** Orders Redis stream ids ("ms-seq"). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const major = BigInt(am!) - BigInt(bm!);
  if (major !== 0n) return major > 0n ? 1 : -1;
  const minor = BigInt(as) - BigInt(bs);
  return minor === 0n ? 0 : minor > 0n ? 1 : -1;
}

/** The id of a stream's newest entry ('0-0' for an empty or missing stream): "from now on". */
export async function latestStreamId(redis: Redis | Cluster, key: string): Promise<string> {
  const newest = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as StreamEntry[];
  return newest[0]?.[0] ?? '0-0';
}

/**
 * Whether entries after `lastSeen` were trimmed from the stream (MAXLEN), so that a reader
 * resuming from it would miss some: the stream's max-deleted-entry-id is newer.
 */
export async function trimmedAfter(redis: Redis | Cluster, key: string, lastSeen: string): Promise<boolean> {
  try {
    const info = (await redis.call('XINFO', 'STREAM', key)) as unknown[];
    for (let i = 0; i < info.length; i += 2) {
      if (info[i] === 'max-deleted-entry-id') return compareStreamIds(String(info[i + 1]), lastSeen) > 0;
    }
  } catch (error) {
    // No stream yet: nothing was ever trimmed.
    if (String(error).includes('no such key')) return false;
    throw error;
  }
  return false;
}

/**
 * One blocking reader per Redis stream, shared by every SSE client of that stream: a thousand
 * open dashboards cost one Redis connection, not a thousand. A client that resumes from an older
 * id first catches up with XRANGE on the shared connection while live entries queue for it, so
 * it misses nothing and sees nothing twice.
 */
export class StreamHub {
  private readonly readers = new Map<string, { listeners: Set<Listener>; stop: () => void; ready: Promise<void> }>();

  /**
   * `onConnectionError`: what a reader's own connection reports (Redis unreachable, the
   * connection closed while it was being set up). The read loop retries on its own; this only
   * lets the errors be logged instead of ioredis printing them to stderr.
   */
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly blockMs: number,
    private readonly onConnectionError: (error: Error) => void = () => undefined,
  ) {}

  /** Delivers entries after `after` to `listener`, in order, until the returned function is called. */
  async subscribe(key: string, after: string, listener: Listener): Promise<() => void> {
    let last = after;
    let catchingUp = true;
    const queued: StreamEntry[] = [];
    const deliver = (entries: StreamEntry[]) => {
      const fresh = entries.filter(([id]) => compareStreamIds(id, last) > 0);
      if (fresh.length === 0) return;
      last = fresh.at(-1)![0];
      listener(fresh);
    };
    const live: Listener = (entries) => (catchingUp ? queued.push(...entries) : deliver(entries));
    try {
      // The reader must know where it starts before the catch-up reads up to "now": whatever
      // lies between is then either in the catch-up or in what the reader delivers.
      await this.join(key, live);
      // Everything already in the stream after `after`, in pages.
      for (;;) {
        const page = (await this.redis.xrange(key, `(${last}`, '+', 'COUNT', 500)) as StreamEntry[];
        deliver(page);
        if (page.length < 500) break;
      }
    } catch (error) {
      this.leave(key, live);
      throw error;
    }
    catchingUp = false;
    deliver(queued.splice(0));
    return () => this.leave(key, live);
  }

  get readerCount(): number {
    return this.readers.size;
  }

  closeAll(): void {
    for (const reader of this.readers.values()) reader.stop();
    this.readers.clear();
  }

  private join(key: string, listener: Listener): Promise<void> {
    const existing = this.readers.get(key);
    if (existing) {
      existing.listeners.add(listener);
      return existing.ready;
    }
    const listeners = new Set<Listener>([listener]);
    const connection = duplicateForBlocking(this.redis, this.blockMs);
    connection.on('error', this.onConnectionError);
    // The gateway's clients connect lazily and refuse commands until connected (no offline
    // queue), so the first XREAD on a new connection would fail and the reader would wait out
    // its retry pause before delivering anything: connect first. A failure here is the read
    // loop's to retry.
    const connected = connection.connect().catch(() => undefined);
    let running = true;
    const stop = () => {
      running = false;
      connection.disconnect();
    };
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    this.readers.set(key, { listeners, stop, ready });
    void (async () => {
      // Start from the newest entry: listeners catch up on older ones themselves.
      let cursor = await latestStreamId(this.redis, key).catch(() => '0-0');
      markReady();
      await connected;
      while (running) {
        try {
          const batch = (await connection.xread('COUNT', 500, 'BLOCK', this.blockMs, 'STREAMS', key, cursor)) as [string, StreamEntry[]][] | null;
          if (!running) break;
          const entries = batch?.[0]?.[1] ?? [];
          if (entries.length === 0) continue;
          cursor = entries.at(-1)![0];
          for (const l of [...listeners]) l(entries);
        } catch {
          if (!running) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    return ready;
  }

  private leave(key: string, listener: Listener): void {
    const reader = this.readers.get(key);
    if (!reader) return;
    reader.listeners.delete(listener);
    if (reader.listeners.size === 0) {
      reader.stop();
      this.readers.delete(key);
    }
  }
}
