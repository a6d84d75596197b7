import sharp from 'sharp';
import { CATEGORIES, type BadgeCommand, type CreateTicketInput, type DeviceKind } from '@civicloop/model';
import { CivicLoop, signToken } from '@civicloop/sdk';
import { connectDevice, type DeviceClient } from '@civicloop/sdk/device';
import { BEATS, ROUTES, type Point } from './district.js';
import { around, bearing, distance, moveToward, seededRandom } from './geo.js';

export interface SimulationOptions {
  baseUrl: string;
  mqttUrl: string;
  /** Tenant secret key: registers devices and staff, signs the workers' tokens. */
  secretKey: string;
  vehicles?: number;
  workers?: number;
  /** Real milliseconds between steps. */
  tickMs?: number;
  /** How much faster than real life people and vehicles move. */
  speedup?: number;
  /** A new resident report every this many ticks (0: none). */
  reportEveryTicks?: number;
  /** Unit the simulated workers belong to (created when missing). */
  unitId?: string;
  seed?: number;
  log?: (line: string) => void;
}

export interface SimulationStats {
  positions: number;
  reports: number;
  assignments: number;
  resolved: number;
  verified: number;
  errors: number;
}

interface Vehicle {
  id: string;
  client: DeviceClient;
  route: Point[];
  leg: number;
  at: Point;
}

interface Worker {
  staffId: string;
  badgeId: string;
  client: DeviceClient;
  api: CivicLoop;
  beat: Point;
  at: Point;
  patrolTarget: Point;
  job?: { ticketId: string; number: string; site: Point; state: 'walking' | 'waiting' | 'resolving' };
  /** Assignments that came while busy, taken in turn. */
  queue: BadgeCommand[];
}

const VEHICLE_KMH = 18;
const WALK_KMH = 5;
const SIMULATOR_SKILLS = [...new Set(CATEGORIES.filter((c) => c.group === 'sanitation' || c.group === 'order').flatMap((c) => c.skills))];

/**
 * Runs a district: vehicles loop along their routes, workers check in and patrol, residents
 * report problems that are dispatched to the nearest worker; a worker who is assigned a ticket
 * accepts it, walks there (the gateway sees the badge arrive), resolves it with a photo, and a
 * supervisor verifies it. Everything goes through the SDK and MQTT, as a real deployment would.
 */
// Long: the simulation loop and the state of its vehicles and workers, read top to bottom as one story.
export async function runSimulation(options: SimulationOptions): Promise<{ stop: () => Promise<void>; stats: SimulationStats }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const random = seededRandom(options.seed ?? 42);
  const tickMs = options.tickMs ?? 1000;
  const speedup = options.speedup ?? 5;
  const unitId = options.unitId ?? 'sim-sanitation';
  const stats: SimulationStats = { positions: 0, reports: 0, assignments: 0, resolved: 0, verified: 0, errors: 0 };
  const admin = new CivicLoop({ baseUrl: options.baseUrl, apiKey: options.secretKey });
  const supervisor = new CivicLoop({
    baseUrl: options.baseUrl,
    token: () => signToken({ secretKey: options.secretKey, sub: 'sim-supervisor', role: 'supervisor' }),
  });
  const fail = (what: string) => (error: unknown) => {
    stats.errors++;
    log(`simulator: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  };

  if (!(await admin.units.list()).some((u) => u.id === unitId)) {
    await admin.units.create({
      id: unitId,
      name: 'Simulated sanitation crew',
      categories: CATEGORIES.filter((c) => c.group === 'sanitation').map((c) => c.code),
    });
  }
  const staff = new Set((await admin.staff.list()).map((s) => s.id));
  const registered = new Map((await admin.devices.list()).map((d) => [d.id, d]));

  /** Registers the device, or issues it a fresh password when it exists from an earlier run. */
  async function device(id: string, kind: DeviceKind, name: string, extra: { staffId?: string; plate?: string } = {}): Promise<DeviceClient> {
    const credential = registered.has(id)
      ? (await admin.devices.rotateCredential(id)).credential
      : (await admin.devices.register({ id, kind, name, unitId, skills: kind === 'badge' ? SIMULATOR_SKILLS : [], ...extra })).credential;
    const client = connectDevice({
      url: options.mqttUrl,
      tenantId: (await admin.me()).tenant.id,
      kind,
      deviceId: id,
      username: credential.username,
      password: credential.password,
      mqtt: { reconnectPeriod: 1000 },
    });
    client.on('error', fail(`device ${id}`));
    await client.ready();
    return client;
  }

  const vehicles: Vehicle[] = [];
  for (let i = 0; i < (options.vehicles ?? 3); i++) {
    const route = ROUTES[i % ROUTES.length]!;
    vehicles.push({
      id: `sim-truck-${i + 1}`,
      client: await device(`sim-truck-${i + 1}`, 'vehicle', `Sweeper ${i + 1}`, { plate: `粤A·S${1000 + i}` }),
      route,
      leg: 1,
      at: { ...route[0]! },
    });
  }

  const workers: Worker[] = [];
  for (let i = 0; i < (options.workers ?? 5); i++) {
    const staffId = `sim-worker-${i + 1}`;
    if (!staff.has(staffId)) await admin.staff.create({ id: staffId, name: `Simulated worker ${i + 1}`, role: 'worker', unitId, skills: SIMULATOR_SKILLS });
    const badgeId = `sim-badge-${i + 1}`;
    const client = await device(badgeId, 'badge', `Badge of ${staffId}`, { staffId });
    const beat = BEATS[i % BEATS.length]!;
    const api = new CivicLoop({ baseUrl: options.baseUrl, token: () => signToken({ secretKey: options.secretKey, sub: staffId, role: 'worker', unitId }) });
    const worker: Worker = { staffId, badgeId, client, api, beat, at: around(beat, 300, random), patrolTarget: around(beat, 400, random), queue: [] };
    client.on('command', (command) => onCommand(worker, command));
    await client.publishPosition({ ...worker.at, accuracy: 8 });
    await client.publishEvent({ type: 'check_in', ...worker.at });
    workers.push(worker);
  }
  log(`simulator: ${vehicles.length} vehicles and ${workers.length} badge wearers on duty in Tianhe`);

  function onCommand(worker: Worker, command: BadgeCommand): void {
    if (command.type !== 'assignment') return;
    stats.assignments++;
    if (worker.job?.ticketId === command.ticketId || worker.queue.some((c) => c.type === 'assignment' && c.ticketId === command.ticketId)) return;
    worker.queue.push(command);
    if (!worker.job) takeNext(worker);
  }

  /** Starts the next assignment still dispatched to this worker, accepting it. */
  function takeNext(worker: Worker): void {
    const command = worker.queue.shift();
    if (command?.type !== 'assignment') return;
    worker.job = { ticketId: command.ticketId, number: command.number, site: { lat: command.location.lat, lon: command.location.lon }, state: 'walking' };
    log(`simulator: ${worker.staffId} takes ${command.number} (${command.category})`);
    worker.api.tickets.accept(command.ticketId).catch((error: unknown) => {
      // Reassigned or withdrawn meanwhile: not this worker's job any more.
      worker.job = undefined;
      if ((error as { code?: string }).code !== 'CL_ERR_INVALID_TRANSITION' && (error as { code?: string }).code !== 'CL_ERR_FORBIDDEN')
        fail(`accept ${command.number}`)(error);
      takeNext(worker);
    });
  }

  // The after-photo every simulated fix uploads: a real JPEG, stored by the gateway like any other.
  const afterPhoto = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#4f8a5b' } })
    .composite([
      {
        input: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect x="120" y="90" width="400" height="300" ' +
            'rx="24" fill="#e8efe6"/><rect x="250" y="170" width="140" height="170" rx="10" fill="#2f5d3a"/></svg>',
        ),
      },
    ])
    .jpeg({ quality: 70 })
    .toBuffer();

  const perTick = (kmh: number) => ((kmh * 1000) / 3600) * (tickMs / 1000) * speedup;

  async function stepWorker(worker: Worker): Promise<void> {
    const job = worker.job;
    if (!job) {
      worker.at = moveToward(worker.at, worker.patrolTarget, perTick(WALK_KMH));
      if (distance(worker.at, worker.patrolTarget) < 5) worker.patrolTarget = around(worker.beat, 400, random);
    } else if (job.state === 'walking') {
      worker.at = moveToward(worker.at, job.site, perTick(WALK_KMH));
      if (distance(worker.at, job.site) < 8) job.state = 'waiting';
    } else if (job.state === 'waiting') {
      // Stay on site; the gateway moves the ticket to on_site once the badge has dwelt there.
      worker.at = around(job.site, 6, random);
      const ticket = await worker.api.tickets.get(job.ticketId);
      if (ticket.status === 'on_site') {
        job.state = 'resolving';
        const photo = await worker.api.media.upload(new Blob([new Uint8Array(afterPhoto)], { type: 'image/jpeg' }), `after-${ticket.number}.jpg`);
        await worker.api.tickets.resolve(job.ticketId, { photos: [{ ref: photo.ref, caption: 'after' }], note: 'Cleared' });
        stats.resolved++;
        log(`simulator: ${worker.staffId} resolved ${ticket.number}`);
        const verified = await supervisor.tickets.verify(job.ticketId, { outcome: 'pass' });
        if (verified.ticket.status === 'closed') stats.verified++;
        worker.job = undefined;
        takeNext(worker);
      } else if (ticket.status !== 'accepted') {
        worker.job = undefined;
        takeNext(worker);
      }
    }
    await worker.client.publishPosition({ ...worker.at, accuracy: 6 + random() * 6, speed: job?.state === 'waiting' ? 0 : WALK_KMH });
    stats.positions++;
  }

  async function stepVehicle(vehicle: Vehicle): Promise<void> {
    const target = vehicle.route[vehicle.leg]!;
    const heading = bearing(vehicle.at, target);
    vehicle.at = moveToward(vehicle.at, target, perTick(VEHICLE_KMH));
    if (distance(vehicle.at, target) < 1) vehicle.leg = (vehicle.leg + 1) % vehicle.route.length;
    await vehicle.client.publishPosition({ ...vehicle.at, speed: VEHICLE_KMH, course: Math.round(heading), battery: 100 });
    stats.positions++;
  }

  async function reportSomething(): Promise<void> {
    const beat = BEATS[Math.floor(random() * BEATS.length)]!;
    const category = ['sanitation.bin_overflow', 'sanitation.scattered_litter', 'sanitation.street_dirty', 'order.illegal_posting'][Math.floor(random() * 4)]!;
    const report: CreateTicketInput = { category, description: 'Reported by a simulated resident', location: around(beat, 250, random), channel: 'sdk' };
    const ticket = await admin.tickets.create(report);
    stats.reports++;
    // Where the tenant's zones route the category the report is dispatched already; else the
    // simulated dispatcher sends the nearest worker.
    if (ticket.status === 'reported') await admin.tickets.dispatchNearest(ticket.id, { radiusMeters: 5000 }).catch(fail(`dispatch ${ticket.number}`));
  }

  let tick = 0;
  let running = true;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    if (!running) return;
    // One step at a time: a slow step delays the next instead of piling up.
    current = current.then(async () => {
      tick++;
      await Promise.all([
        ...vehicles.map((v) => stepVehicle(v).catch(fail(`vehicle ${v.id}`))),
        ...workers.map((w) => stepWorker(w).catch(fail(`worker ${w.staffId}`))),
      ]);
      const every = options.reportEveryTicks ?? 20;
      if (every > 0 && tick % every === 1) await reportSomething().catch(fail('report'));
    });
  }, tickMs);

  return {
    stats,
    stop: async () => {
      running = false;
      clearInterval(timer);
      await current;
      await Promise.all(workers.map((w) => w.client.publishEvent({ type: 'check_out' }).catch(() => undefined)));
      await Promise.all([...vehicles.map((v) => v.client.close()), ...workers.map((w) => w.client.close())]);
    },
  };
}
