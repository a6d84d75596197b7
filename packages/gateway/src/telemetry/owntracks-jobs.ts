import { categoryOf, type Device, type Principal, type Ticket } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { pointIn } from '../geometry/crs-output.js';
import { DeviceStateStore } from '../store/device-state-store.js';
import { listTickets } from '../tickets/list-tickets.js';

/**
 * The most jobs an OwnTracks phone is given as regions: iOS monitors at most 20 regions per app
 * (Android 100), and a region past that limit would silently not be watched.
 */
export const OWNTRACKS_JOB_SLOTS = 20;
/**
 * Slot i's waypoint time (`tst`, epoch seconds). OwnTracks for Android knows a waypoint by its tst
 * and replaces one sent again with the same tst; iOS knows it by `rid`. Fixed slots make each
 * sync replace the app's job regions in place, since neither app can be told to remove one
 * region (Android only clears them all). The times lie in 2001, before any region a person made
 * in the app, so no slot replaces one of theirs.
 */
const SLOT_TST = 1_000_000_000;
/** What a slot without a job says; no colon, which iOS reads as a beacon's fields. */
const FREE_SLOT = 'CivicLoop (no job)';
/** The statuses in which a ticket is its assignee's to go to and fix. */
const WORKER_STATUSES = 'dispatched,accepted,on_site,rework';

/** A waypoint as both OwnTracks apps take it in a setWaypoints command (booklet: `_type: waypoint`). */
export interface OwnTracksWaypoint {
  _type: 'waypoint';
  desc: string;
  lat: number;
  lon: number;
  /** Meters, an integer: Android reads it as one, and a fraction would fail the whole command. */
  rad: number;
  tst: number;
  rid: string;
}

/** A UTF-16 surrogate without its other half (String.prototype.toWellFormed is ES2024, past this build's target). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The longest region name sent, in characters (code points). */
export const REGION_NAME_MAX = 120;

/**
 * A job's region name: its number, category and address, as the app lists it and names its
 * transitions. iOS splits a region's name at colons (a beacon's uuid, major and minor follow
 * them), so there are none; it also reads a leading "+" as a region that follows the phone, which
 * a ticket number never starts with. Control characters become spaces; a lone surrogate becomes
 * U+FFFD, and the name is cut by code points, not halfway through a pair: malformed UTF-16 is
 * no Unicode, and a JSON parser may refuse the whole command for it.
 */
export function regionName(ticket: Pick<Ticket, 'number' | 'category' | 'categoryAsReported' | 'location'>): string {
  const category = categoryOf(ticket)?.name;
  const words = [ticket.number, category?.['zh-CN'] ?? category?.en ?? ticket.category, ticket.location.address ?? ''];
  // A stored address may hold control characters or a lone surrogate (JSON can carry both).
  const name = words
    .join(' ')
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/[:\s\p{Cc}]+/gu, ' ')
    .trim();
  return Array.from(name).slice(0, REGION_NAME_MAX).join('').trimEnd();
}

/**
 * An OwnTracks phone's jobs, as the regions (waypoints) the app shows and watches: one per ticket
 * its wearer is to go to (dispatched to them, accepted, on site, sent back for rework), the
 * oldest first, at most OWNTRACKS_JOB_SLOTS, each a circle of ARRIVAL_ENTER_METERS around the
 * ticket, in the device's coordinate system (its `crs`, as its fixes come). Slots a device was
 * once sent a job in and that have none now go as "CivicLoop (no job)" at 0,0, of radius 0 (iOS
 * does not watch it, Android at 1 m), so that after each sync the app lists the wearer's jobs of
 * that moment and no other. (Whatever changes them is sent as an assignment or a withdrawal: see
 * ownTracksResyncAfter in assignment.ts.) The slots a device has been sent are kept with its
 * state, each in a field of its own, so two gateways sending at once lose none.
 */
export class OwnTracksJobs {
  private readonly state: DeviceStateStore;

  constructor(private readonly services: Services) {
    this.state = new DeviceStateStore(services.redis);
  }

  /**
   * The jobs, read at most once however often it is called: for one pass over a device's outbox,
   * whose every assignment and withdrawal is sent as the same jobs.
   */
  forOnePass(tenantId: string, device: Device): () => Promise<OwnTracksWaypoint[]> {
    let jobs: Promise<OwnTracksWaypoint[]> | undefined;
    return () => (jobs ??= this.waypoints(tenantId, device));
  }

  /** Whether the device's newest position came from the OwnTracks app: what tells a phone whose regions are its jobs. */
  async isOwnTracksPhone(tenantId: string, device: Device): Promise<boolean> {
    return device.protocol !== 'jt808' && (await this.state.newestSource(tenantId, device.id)) === 'owntracks';
  }

  async waypoints(tenantId: string, sent: Device): Promise<OwnTracksWaypoint[]> {
    // As the device is now: a connection's copy is as it was at CONNECT, before a change of wearer or crs.
    const device = (await this.services.devices.get(tenantId, sent.id)) ?? sent;
    const jobs = device.staffId ? await this.jobsOf(tenantId, device.staffId) : [];
    const used = await this.state.ownTracksSlotsSent(tenantId, device.id, OWNTRACKS_JOB_SLOTS);
    const slots = Math.max(jobs.length, used);
    if (jobs.length > used) await this.state.noteOwnTracksSlotsSent(tenantId, device.id, jobs.length);
    const radius = this.services.config.arrivalEnterMeters;
    return Array.from({ length: slots }, (_, i) => {
      const job = jobs[i];
      const slot = { _type: 'waypoint' as const, tst: SLOT_TST + i, rid: `civicloop-${i}` };
      if (!job) return { ...slot, desc: FREE_SLOT, lat: 0, lon: 0, rad: 0 };
      const at = device.crs && device.crs !== 'wgs84' ? pointIn(job.location, device.crs) : job.location;
      return { ...slot, desc: regionName(job), lat: round6(at.lat), lon: round6(at.lon), rad: Math.round(radius) };
    });
  }

  /** The wearer's open jobs, oldest first: the newest OWNTRACKS_JOB_SLOTS of them. */
  private async jobsOf(tenantId: string, staffId: string): Promise<Ticket[]> {
    const everyone: Principal = { tenantId, sub: 'owntracks-jobs', role: 'service', via: 'secret_key' };
    const page = await listTickets(
      this.services.tickets,
      everyone,
      { assigneeId: staffId, status: WORKER_STATUSES, limit: OWNTRACKS_JOB_SLOTS },
      this.services.now(),
    );
    return [...page.items].reverse();
  }
}

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;
