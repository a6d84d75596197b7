/**
 * The attributions this process last wrote, per tenant, with the stream cursor its write left.
 * Only the projector's apply script writes attributions, and it always moves the cursor: while a
 * tenant's stored cursor is still the one this process's last write left, no other gateway has
 * counted anything since, so each attribution remembered for that tenant is what Redis holds.
 * A batch then reads from Redis only the tickets it does not remember, instead of all of them
 * (under steady load the same open tickets come back batch after batch).
 *
 * One bounded map for all tenants (least recently written dropped first); a tenant whose cursor
 * moved elsewhere gets a new generation, so its older entries are never trusted again and age out.
 */
export class WrittenAttributions<A> {
  private readonly cursors = new Map<string, { cursor: string; generation: number }>();
  private readonly entries = new Map<string, A>();
  private generations = 0;

  constructor(private readonly capacity: number) {}

  /** The remembered attributions of these tickets, if `cursor` is still where this process left the tenant's; the rest are for Redis. */
  recall(tenantId: string, cursor: string, ticketIds: string[]): { known: Map<string, A>; unknown: string[] } {
    const mine = this.cursors.get(tenantId);
    if (!mine || mine.cursor !== cursor) {
      this.cursors.delete(tenantId);
      return { known: new Map(), unknown: ticketIds };
    }
    const known = new Map<string, A>();
    const unknown: string[] = [];
    for (const id of ticketIds) {
      const a = this.entries.get(`${tenantId}\0${mine.generation}\0${id}`);
      if (a === undefined) unknown.push(id);
      else known.set(id, a);
    }
    return { known, unknown };
  }

  /** After a batch moved the cursor from `from` to `to`, writing these attributions. */
  wrote(tenantId: string, from: string, to: string, attributions: [ticketId: string, attribution: A][]): void {
    let mine = this.cursors.get(tenantId);
    // Continuing from this process's own last write keeps what it remembers; otherwise start afresh.
    if (!mine || mine.cursor !== from) {
      mine = { cursor: to, generation: ++this.generations };
      this.cursors.set(tenantId, mine);
    }
    mine.cursor = to;
    for (const [id, a] of attributions) {
      const key = `${tenantId}\0${mine.generation}\0${id}`;
      this.entries.delete(key);
      this.entries.set(key, a);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(key);
    }
  }

  /** A batch was not applied (another gateway moved the cursor): nothing remembered for the tenant is trusted. */
  forget(tenantId: string): void {
    this.cursors.delete(tenantId);
  }
}
