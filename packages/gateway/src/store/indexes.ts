import { OPEN_WORK_STATUSES, TERMINAL_STATUSES, parseIsoTime, nextMilestone, type Ticket } from '@civicloop/model';
import { geohashScore } from '../geometry/geohash.js';
import type { TenantKeys } from '../redis/keys.js';
import { partnerOfSubject, partnerSubject } from '../auth/partner-scope.js';

/** The partners a ticket concerns: the one it was reported through, and those of residents following it. */
export function partnersOf(ticket: Ticket): Set<string> {
  const partners = new Set<string>(ticket.partnerId ? [ticket.partnerId] : []);
  for (const follower of ticket.followers) {
    const partnerId = partnerOfSubject(follower);
    if (partnerId) partners.add(partnerId);
  }
  return partners;
}

/** Whether a ticket counts in its assignee's and its unit's open indexes (store/index-builds.ts fills them for tickets stored before them). */
function isUnfinished(ticket: Pick<Ticket, 'status'>): boolean {
  return !TERMINAL_STATUSES.includes(ticket.status);
}

/** The open indexes a ticket belongs to: its assignee's and its unit's, while it is unfinished. */
function openIndexes(keys: TenantKeys, ticket: Ticket): string[] {
  if (!isUnfinished(ticket)) return [];
  const out: string[] = [];
  if (ticket.assigneeId) out.push(keys.index.assigneeOpen(ticket.assigneeId));
  if (ticket.unitId) out.push(keys.index.unitOpen(ticket.unitId));
  return out;
}

/** The sorted sets a ticket belongs to, with its score in each (creation time; deadline for `due`; place for `openNear`). */
export function indexMembership(keys: TenantKeys, ticket: Ticket): Map<string, number> {
  const created = parseIsoTime(ticket.createdAt);
  const out = new Map<string, number>([
    [keys.index.all, created],
    [keys.index.status(ticket.status), created],
    [keys.index.category(ticket.category), created],
    [keys.index.channel(ticket.channel), created],
  ]);
  // Only people list "their" tickets; a server key or an anonymous browser has no such view.
  if (ticket.reporter.role !== 'service' && ticket.reporter.role !== 'public') out.set(keys.index.party(ticket.reporter.sub), created);
  for (const follower of ticket.followers) out.set(keys.index.party(follower), created);
  // A partner's server lists what its residents reported or follow (and its own anonymous reports).
  for (const partnerId of partnersOf(ticket)) out.set(keys.index.party(partnerSubject(partnerId)), created);
  if (ticket.unitId) out.set(keys.index.unit(ticket.unitId), created);
  if (ticket.assigneeId) out.set(keys.index.assignee(ticket.assigneeId), created);
  for (const key of openIndexes(keys, ticket)) out.set(key, created);
  const milestone = nextMilestone(ticket);
  if (milestone) out.set(keys.index.timers, milestone.at);
  if (isUnfinished(ticket)) out.set(keys.index.openNear(ticket.category), geohashScore(ticket.location.lon, ticket.location.lat));
  if (ticket.sla && OPEN_WORK_STATUSES.includes(ticket.status) && ticket.status !== 'resolved') {
    out.set(keys.index.due, parseIsoTime(ticket.sla.resolveBy));
  }
  return out;
}

/** What to remove and add so that a ticket's index entries go from `before` to `after`. */
export function indexDiff(keys: TenantKeys, before: Ticket | undefined, after: Ticket) {
  const old = before ? indexMembership(keys, before) : new Map<string, number>();
  const next = indexMembership(keys, after);
  const zrem: { key: string; member: string }[] = [];
  for (const key of old.keys()) if (!next.has(key)) zrem.push({ key, member: after.id });
  const zadd: { key: string; member: string; score: number }[] = [];
  // The open indexes are written again even where their entry should be there already: a ticket
  // stored before they existed is not in them until its tenant's build (store/index-builds.ts) or
  // its next write, whichever comes first, and that write must not take the entry as there.
  const open = openIndexes(keys, after);
  for (const [key, score] of next) if (old.get(key) !== score || open.includes(key)) zadd.push({ key, member: after.id, score });
  return { zrem, zadd };
}
