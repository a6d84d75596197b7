import { randomBytes } from 'node:crypto';
import type { TicketEvent } from '@civicloop/model';
import { PollingLoop } from '../core/polling-loop.js';
import type { Services } from '../core/services.js';
import { StatsStore } from '../store/stats-store.js';
import { streamEntryToEvent } from '../store/ticket-store.js';
import { cellOf } from '../geometry/grid-cells.js';
import { zonesContaining } from '../geometry/zone-lookup.js';
import { applyEvent, difference, newAttribution, type Attribution, type ReportFacts } from './attribution.js';
import { BlackSpots, type CellCount } from './black-spots.js';
import { WorkforceStats } from './workforce.js';

const BATCH = 500;
const LOCK_MS = 15_000;

/** What a report event says about its ticket, when it says enough to count it; older report events, without the place, do not. */
function reportOf(event: TicketEvent): ReportFacts | undefined {
  const data = (event.data ?? {}) as Partial<Pick<ReportFacts, 'category' | 'channel' | 'priority' | 'location'>>;
  if (!data.category || !data.channel || !data.priority || !data.location) return undefined;
  return { createdAt: event.at, category: data.category, channel: data.channel, priority: data.priority, location: data.location };
}

/**
 * Keeps the statistics incrementally: it reads each tenant's event stream in order from a cursor
 * and turns every event into counter changes in per-day hashes (by the day a ticket was
 * reported), through each ticket's attribution. A batch and the cursor move together, in one
 * script, so no event is counted twice or skipped, across restarts and gateways. A short lock lets
 * one gateway at a time do a tenant's work; the cursor check makes even an overlap harmless.
 */
export class StatsProjector {
  private readonly me = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly loop: PollingLoop;
  private readonly store: StatsStore;

  readonly blackSpots: BlackSpots;
  readonly workforce: WorkforceStats;

  constructor(
    private readonly services: Services,
    log: { warn(obj: object, msg: string): void },
  ) {
    this.store = new StatsStore(services.redis);
    this.blackSpots = new BlackSpots(services);
    this.workforce = new WorkforceStats(services);
    this.loop = new PollingLoop('statistics pass', () => this.runOnce(), log);
  }

  start(pollMs: number): void {
    this.loop.start(pollMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Catches every tenant up with its stream; returns how many events were counted. A tenant that
   * fails is passed over, and the pass throws its error once the others are counted.
   */
  async runOnce(): Promise<number> {
    let counted = 0;
    const failures: unknown[] = [];
    for (const tenantId of await this.services.tenants.ids()) {
      try {
        counted += await this.catchUp(tenantId);
        // Periodic work rides on the workforce sample's claim: once per FLEET_SAMPLE_SECONDS slot
        // across gateways, not on every pass. Escalating spots open for months needs no more.
        const now = this.services.now();
        if (await this.workforce.sample(tenantId, now)) await this.blackSpots.escalateOld(tenantId, now);
      } catch (error) {
        // One tenant's fault (a damaged key, say) must not stop every other tenant's counting.
        failures.push(error);
      }
    }
    // The pass is reported failed (the loop logs it and tries again); the other tenants are counted.
    if (failures.length > 0) throw failures[0];
    return counted;
  }

  async catchUp(tenantId: string): Promise<number> {
    if (!(await this.store.lock(tenantId, this.me, LOCK_MS))) return 0;
    let counted = 0;
    try {
      await this.blackSpots.notePending(tenantId);
      for (;;) {
        const n = await this.batch(tenantId);
        counted += n;
        if (n < BATCH) return counted;
        await this.store.renewLock(tenantId, LOCK_MS);
      }
    } finally {
      await this.store.unlock(tenantId, this.me);
    }
  }

  private async batch(tenantId: string): Promise<number> {
    const { tickets, zones, tenants } = this.services;
    const cursor = await this.store.cursor(tenantId);
    const entries = await this.store.entriesAfter(tenantId, cursor, BATCH);
    if (entries.length === 0) return 0;
    const timeZone = (await tenants.context(tenantId))?.tenant.policy.timeZone ?? 'Asia/Shanghai';
    const events = entries.flatMap(([id, fields]) => {
      const entry = streamEntryToEvent(id, fields);
      return entry ? [entry.event.event] : [];
    });
    const ids = [...new Set(events.map((e) => e.ticketId))];
    // A batch may hold only device alerts, which share the tenant's stream: nothing to read then.
    const attributions = await this.store.attributions<Attribution>(tenantId, ids);
    const originals = new Map(ids.map((id) => [id, attributions.get(id)]));
    // A ticket first seen in this batch is counted from its report event, which carries the
    // category, channel, priority and place; only an event without them needs the document.
    const unseen = ids.filter((id) => !attributions.has(id));
    const facts = new Map<string, ReportFacts | undefined>(
      events.flatMap((event) => (event.type === 'reported' && !attributions.has(event.ticketId) ? [[event.ticketId, reportOf(event)] as const] : [])),
    );
    const missing = unseen.filter((id) => !facts.get(id));
    const docs = await tickets.getMany(tenantId, missing);
    for (const [i, id] of missing.entries()) if (docs[i]) facts.set(id, docs[i]);

    const reportedCells: { cell: string; day: string; at: string }[] = [];
    for (const event of events) {
      let current = attributions.get(event.ticketId);
      if (!current) {
        const report = facts.get(event.ticketId);
        // A ticket whose report was trimmed from the stream before it was counted: skipped.
        if (!report || event.type !== 'reported') continue;
        const zone = zonesContaining(await zones.all(tenantId), report.location)[0]?.id;
        current = newAttribution(report, zone, timeZone);
        attributions.set(event.ticketId, current);
        reportedCells.push({ cell: cellOf(report.location), day: current.day, at: report.createdAt });
        continue;
      }
      attributions.set(event.ticketId, applyEvent(current, event));
    }

    const changed = [...attributions.entries()].filter(([id, a]) => originals.get(id) !== a);
    // Counter changes: the report day's KPI counters, and its reports per grid cell.
    const days = new Map<string, Map<string, number>>();
    const cells = new Map<string, Map<string, number>>();
    const add = (into: Map<string, Map<string, number>>, bucket: string, field: string, change: number) => {
      const fields = into.get(bucket) ?? new Map<string, number>();
      fields.set(field, (fields.get(field) ?? 0) + change);
      into.set(bucket, fields);
    };
    for (const [id, after] of changed) {
      for (const [field, change] of difference(originals.get(id), after)) add(days, after.day, field, change);
    }
    for (const { cell, day } of reportedCells) add(cells, cell, day, 1);
    const reports = new Map<string, CellCount>();
    for (const { cell, at } of reportedCells) {
      const seen = reports.get(cell);
      reports.set(cell, { count: (seen?.count ?? 0) + 1, at: seen && seen.at > at ? seen.at : at });
    }
    const to = entries.at(-1)![0];
    // The reports stay pending with the cursor until noted: a stop between the two calls loses none.
    const spotReports = reports.size > 0 ? JSON.stringify([...reports]) : '';
    const applied = await this.store.apply(tenantId, { from: cursor, to, attributions: changed, days, cells, spotReports });
    if (!applied) return 0;
    if (reports.size > 0) await this.blackSpots.noteReports(tenantId, to, reports);
    return entries.length;
  }
}
