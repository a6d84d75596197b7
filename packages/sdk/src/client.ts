import type {
  BlackSpot,
  BlackSpotInspectionInput,
  MonthlyRanking,
  ZoneType,
  LikelyDuplicate,
  StatsResult,
  CategoryCatalogue,
  CommandBodies,
  CommandName,
  CreateStaffInput,
  CreateTicketInput,
  CreateUnitInput,
  ListTicketsQuery,
  Staff,
  Ticket,
  TicketEvent,
  Unit,
  UpdateStaffInput,
  UpdateUnitInput,
  Actor,
  Tenant,
  Partner,
  CreateDeviceInput,
  Device,
  DeviceKind,
  RegisteredDevice,
  UpdateDeviceInput,
  UpdateTenantPolicyInput,
  CrsName,
  LocatedPosition,
  ConfirmableAlarm,
  DeviceAlert,
  DevicePhoto,
  TakePhotoInput,
} from '@civicloop/model';
import { subscribe, subscribeAll, subscribeTo, type EventSubscribeOptions, type RealtimeMessage, type SubscribeOptions, type Subscription } from './events.js';
import { crsQuery } from './crs.js';
import { Media } from './media.js';
import { PagePromise, type Page } from './pagination.js';
import { Residents } from './residents.js';
import { Zones } from './zones.js';
import { ProvisioningProfiles } from './provisioning-profiles.js';
import { Webhooks } from './webhooks.js';
import { Partners } from './partners.js';
import { Intake } from './intake.js';
import { Catalogue } from './catalogue.js';
import { Transport, type RequestOptions, type TransportOptions } from './transport.js';

export type CivicLoopOptions = TransportOptions;

export interface CommandResult {
  ticket: Ticket;
  /** null when the gateway answered a replayed Idempotency-Key. */
  event: TicketEvent | null;
}

type ListQuery = Omit<ListTicketsQuery, 'status' | 'cursor'> & { status?: string | string[] };

/**
 * The options of a write that answers with a ticket (a report, a command): also the system the
 * answer's ticket gives its location in (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu).
 */
export type CommandOptions = RequestOptions & { crs?: CrsName };

const enc = encodeURIComponent;

/** A worker suggested for a ticket: checked in, with the category's skills, this far away. */
export interface WorkerSuggestion {
  staffId: string;
  /** From the staff directory; null when the wearer has no staff record. */
  name: string | null;
  /** The badge's unit, else the staff record's; null when neither has one. */
  unitId: string | null;
  deviceId: string;
  distanceMeters: number;
}

/** Someone's open report near a point, as a resident is shown it: no reporter, no photos. */
export interface NearbyReport {
  id: string;
  number: string;
  status: Ticket['status'];
  category: string;
  /** Its first 140 characters. */
  description: string;
  distanceMeters: number;
  createdAt: string;
  /** The asker reported or follows it already. */
  mine: boolean;
}

/** Tickets: report, read, list, and every command of the loop. */
export class Tickets {
  constructor(private readonly transport: Transport) {}

  /**
   * Reports a problem. An Idempotency-Key is generated (or taken from options) and kept across
   * retries. `crs`: the new ticket's location in that system, as reads give it for a map that
   * draws in it (its `reportedLocation` is the point as sent, whatever `crs`).
   */
  create(input: CreateTicketInput, options?: CommandOptions): Promise<Ticket> {
    return this.transport.request({ method: 'POST', path: '/v1/tickets', body: input, ...crsQuery(options), ...(options ? { options } : {}) });
  }

  /** A ticket; `crs` gives its location in that system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu). */
  get(id: string, options?: RequestOptions & { crs?: CrsName }): Promise<Ticket> {
    return this.transport.request({ method: 'GET', path: `/v1/tickets/${enc(id)}`, ...crsQuery(options), ...(options ? { options } : {}) });
  }

  getByNumber(number: string, options?: RequestOptions & { crs?: CrsName }): Promise<Ticket> {
    return this.transport.request({ method: 'GET', path: `/v1/tickets/by-number/${enc(number)}`, ...crsQuery(options), ...(options ? { options } : {}) });
  }

  /** `await` for one page, or `for await (const t of client.tickets.list(...))` for all. */
  list(query: ListQuery = {}, options?: RequestOptions): PagePromise<Ticket> {
    const { status, ...rest } = query;
    return new PagePromise((cursor) =>
      this.transport.request<Page<Ticket>>({
        method: 'GET',
        path: '/v1/tickets',
        query: { ...rest, status: Array.isArray(status) ? status.join(',') : status, cursor },
        ...(options ? { options } : {}),
      }),
    );
  }

  /** Open tickets of the same category nearby and recent: what this one may duplicate (staff). */
  async likelyDuplicates(id: string, options?: RequestOptions): Promise<LikelyDuplicate[]> {
    return (
      await this.transport.request<{ items: LikelyDuplicate[] }>({
        method: 'GET',
        path: `/v1/tickets/${enc(id)}/likely-duplicates`,
        ...(options ? { options } : {}),
      })
    ).items;
  }

  async history(id: string, options?: RequestOptions): Promise<TicketEvent[]> {
    const page = await this.transport.request<{ items: TicketEvent[] }>({
      method: 'GET',
      path: `/v1/tickets/${enc(id)}/history`,
      ...(options ? { options } : {}),
    });
    return page.items;
  }

  /**
   * Open reports of a category near a point, nearest first: before sending a report, what the
   * resident may follow instead (residents see only reports the tenant publishes, and their own).
   */
  async nearby(query: { category: string; lat: number; lon: number; crs?: CrsName; limit?: number }, options?: RequestOptions): Promise<NearbyReport[]> {
    return (
      await this.transport.request<{ items: NearbyReport[] }>({
        method: 'GET',
        path: '/v1/tickets/nearby',
        query: { category: query.category, lat: query.lat, lon: query.lon, crs: query.crs, limit: query.limit },
        ...(options ? { options } : {}),
      })
    ).items;
  }

  /** A resident follows a report instead of filing it again; it shows among their reports. Following twice changes nothing. */
  follow(id: string, body: { note?: string } = {}, options?: RequestOptions): Promise<CommandResult> {
    return this.transport.request({ method: 'POST', path: `/v1/tickets/${enc(id)}/follow`, body, ...(options ? { options } : {}) });
  }

  /**
   * Runs any command by name; the named methods below are shorthands. `crs`: the answer's ticket
   * with its location in that system, as reads give it for a map that draws in it.
   */
  command<K extends CommandName>(id: string, name: K, body: CommandBodies[K], options?: CommandOptions): Promise<CommandResult> {
    return this.transport.request({ method: 'POST', path: `/v1/tickets/${enc(id)}/${name}`, body, ...crsQuery(options), ...(options ? { options } : {}) });
  }

  dispatch(id: string, body: CommandBodies['dispatch'], options?: CommandOptions) {
    return this.command(id, 'dispatch', body, options);
  }
  reassign(id: string, body: CommandBodies['reassign'], options?: CommandOptions) {
    return this.command(id, 'reassign', body, options);
  }
  return(id: string, body: CommandBodies['return'], options?: CommandOptions) {
    return this.command(id, 'return', body, options);
  }
  accept(id: string, body: CommandBodies['accept'] = {}, options?: CommandOptions) {
    return this.command(id, 'accept', body, options);
  }
  arrive(id: string, body: CommandBodies['arrive'] = {}, options?: CommandOptions) {
    return this.command(id, 'arrive', body, options);
  }
  resolve(id: string, body: CommandBodies['resolve'], options?: CommandOptions) {
    return this.command(id, 'resolve', body, options);
  }
  verify(id: string, body: CommandBodies['verify'], options?: CommandOptions) {
    return this.command(id, 'verify', body, options);
  }
  rework(id: string, body: CommandBodies['rework'] = {}, options?: CommandOptions) {
    return this.command(id, 'rework', body, options);
  }
  reject(id: string, body: CommandBodies['reject'], options?: CommandOptions) {
    return this.command(id, 'reject', body, options);
  }
  merge(id: string, body: CommandBodies['merge'], options?: CommandOptions) {
    return this.command(id, 'merge', body, options);
  }
  cancel(id: string, body: CommandBodies['cancel'] = {}, options?: CommandOptions) {
    return this.command(id, 'cancel', body, options);
  }
  reopen(id: string, body: CommandBodies['reopen'], options?: CommandOptions) {
    return this.command(id, 'reopen', body, options);
  }
  /** The assigned worker asks for more time (at most ten days); a dispatcher reviews it. */
  requestExtension(id: string, body: CommandBodies['request_extension'], options?: CommandOptions) {
    return this.command(id, 'request_extension', body, options);
  }
  reviewExtension(id: string, body: CommandBodies['review_extension'], options?: CommandOptions) {
    return this.command(id, 'review_extension', body, options);
  }
  feedback(id: string, body: CommandBodies['feedback'], options?: CommandOptions) {
    return this.command(id, 'feedback', body, options);
  }
  /** 催办: the reporter or a follower (or a dispatcher for them) presses an overdue report, at most once in 12 hours. */
  urge(id: string, body: CommandBodies['urge'] = {}, options?: CommandOptions) {
    return this.command(id, 'urge', body, options);
  }

  /**
   * The checked-in workers nearest the ticket whose skills cover its category, nearest first,
   * with their unit and distance: what a dispatcher chooses from before `dispatch`.
   */
  async nearestWorkers(id: string, query: { limit?: number; radiusMeters?: number } = {}, options?: RequestOptions): Promise<WorkerSuggestion[]> {
    const found = await this.transport.request<{ items: WorkerSuggestion[] }>({
      method: 'GET',
      path: `/v1/tickets/${enc(id)}/nearest-workers`,
      query: { limit: query.limit, radiusMeters: query.radiusMeters },
      ...(options ? { options } : {}),
    });
    return found.items;
  }

  /** Dispatches to the nearest checked-in worker with the category's skills; their badge is told. */
  dispatchNearest(
    id: string,
    body: { radiusMeters?: number; note?: string } = {},
    options?: CommandOptions,
  ): Promise<CommandResult & { worker: { staffId: string; deviceId: string; distanceMeters: number } }> {
    return this.transport.request({
      method: 'POST',
      path: `/v1/tickets/${enc(id)}/dispatch-nearest`,
      body,
      ...crsQuery(options),
      ...(options ? { options } : {}),
    });
  }
}

/** GeoJSON as the fleet routes return it (RFC 7946). */
export interface GeoJsonFeature {
  type: 'Feature';
  geometry: { type: 'Point' | 'LineString'; coordinates: number[] | number[][] };
  properties: Record<string, unknown>;
}
export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection';
  features: GeoJsonFeature[];
}

export interface Attendance {
  day: string;
  shifts: { deviceId: string; staffId?: string; unitId?: string; start: string; end: string; minutes: number }[];
  onDuty: { deviceId: string; staffId: string | null; unitId: string | null; since: string }[];
  coverage: { unitId: string; workers: number; present: number; coverage: number }[];
}

/** Messages a device sent that the gateway acknowledged and refused, or set aside. */
export interface DeviceMessageTally {
  count: number;
  lastReason: string;
  lastAt: string | null;
}

/** A command given to a device that it has not confirmed yet. */
export interface WaitingCommand {
  commandId: string;
  type: 'assignment' | 'withdrawal' | 'rework' | 'report_location' | 'alarm_confirmation' | 'take_photo';
  /** An assignment's, a withdrawal's or a rework's ticket. */
  ticketId?: string;
  number?: string;
  /** An alarm confirmation's alarms. */
  alarms?: string[];
  /** null: given before the gateway recorded when. */
  givenAt: string | null;
}

export interface DeviceState {
  deviceId: string;
  online: boolean;
  lastSeen: string | null;
  onDutySince: string | null;
  position: GeoJsonFeature | null;
  refused: DeviceMessageTally | null;
  ignored: DeviceMessageTally | null;
  /** A JT/T 808 vehicle's driver, by the qualification IC card in its terminal; null when none is in. */
  driver: DriverOnBoard | null;
  /** Commands given to the device that it has not confirmed yet, oldest first. */
  waiting: WaitingCommand[];
}

/** Who drives a vehicle, as the IC card in its terminal says. */
export interface DriverOnBoard {
  /** The staff member with the card's qualification certificate number; null when nobody has it. */
  staffId: string | null;
  name: string;
  qualificationCode: string;
  /** When the card went in (the terminal's clock). */
  since: string;
}

export type { MonthlyRanking, RankedZone } from '@civicloop/model';

/** What POST /v1/devices/{id}/alarms/confirm answers: the command, given to the device's outbox. */
export interface AlarmConfirmation {
  deviceId: string;
  alarms: ConfirmableAlarm[];
  /**
   * The id the device confirms the command by; the device's state lists it as waiting until then. null: the device has
   * no way to take it (its reports come by OsmAnd or OwnTracks); the confirmation is recorded all the same.
   */
  commandId: string | null;
}

/** Vehicles and badges: registration, credentials, state and tracks. */
export class Devices {
  constructor(private readonly transport: Transport) {}
  /** Registers a device; the returned credential's password is shown only now. */
  register(input: CreateDeviceInput, options?: RequestOptions): Promise<RegisteredDevice> {
    return this.transport.request({ method: 'POST', path: '/v1/devices', body: input, ...(options ? { options } : {}) });
  }
  /**
   * Every device, or with `staffId` the devices that person's assignments go to (unless disabled): their badge and their
   * vehicle; with `provisionedBy`, only those that provisioning profile provisioned.
   */
  async list(options?: RequestOptions & { staffId?: string; provisionedBy?: string }): Promise<Device[]> {
    const query = { query: { staffId: options?.staffId, provisionedBy: options?.provisionedBy } };
    return (await this.transport.request<{ items: Device[] }>({ method: 'GET', path: '/v1/devices', ...query, ...(options ? { options } : {}) })).items;
  }
  get(id: string, options?: RequestOptions): Promise<Device> {
    return this.transport.request({ method: 'GET', path: `/v1/devices/${enc(id)}`, ...(options ? { options } : {}) });
  }
  update(id: string, patch: UpdateDeviceInput, options?: RequestOptions): Promise<Device> {
    return this.transport.request({ method: 'PATCH', path: `/v1/devices/${enc(id)}`, body: patch, ...(options ? { options } : {}) });
  }
  rotateCredential(id: string, options?: RequestOptions): Promise<RegisteredDevice> {
    return this.transport.request({ method: 'POST', path: `/v1/devices/${enc(id)}/credentials`, ...(options ? { options } : {}) });
  }
  state(id: string, options?: RequestOptions & { crs?: CrsName }): Promise<DeviceState> {
    return this.transport.request({ method: 'GET', path: `/v1/devices/${enc(id)}/state`, ...crsQuery(options), ...(options ? { options } : {}) });
  }
  track(id: string, range: { from: Date | string; to: Date | string; crs?: CrsName }, options?: RequestOptions): Promise<GeoJsonFeature> {
    const iso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());
    return this.transport.request({
      method: 'GET',
      path: `/v1/devices/${enc(id)}/track`,
      query: { from: iso(range.from), to: iso(range.to), ...(range.crs ? { crs: range.crs } : {}) },
      ...(options ? { options } : {}),
    });
  }
  /** What this gateway's telemetry accepted, set aside and refused for the tenant's devices since it started, by reason. */
  counters(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.transport.request({ method: 'GET', path: '/v1/telemetry/counters', ...(options ? { options } : {}) });
  }
  /**
   * Asks a device where it is now and waits up to 10 s for its answer: a JT/T 808 terminal by its location query, an MQTT
   * device (OwnTracks too) by a report_location command. CL_ERR_DEVICE_UNREACHABLE when it is offline or not connected,
   * CL_ERR_DEVICE_TIMEOUT when it does not answer in time.
   */
  locate(id: string, options?: RequestOptions & { crs?: CrsName }): Promise<LocatedPosition> {
    return this.transport.request({ method: 'POST', path: `/v1/devices/${enc(id)}/locate`, ...crsQuery(options), ...(options ? { options } : {}) });
  }
  /** The photos a vehicle's camera uploaded (JT/T 808), newest first, with signed links. */
  async photos(id: string, options?: RequestOptions & { limit?: number }): Promise<DevicePhoto[]> {
    const query = { query: { limit: options?.limit } };
    return (
      await this.transport.request<{ items: DevicePhoto[] }>({
        method: 'GET',
        path: `/v1/devices/${enc(id)}/photos`,
        ...query,
        ...(options ? { options } : {}),
      })
    ).items;
  }
  /** Asks a vehicle's JT/T 808 terminal to take a photo now; it appears in photos() once uploaded. Resolves with the command's id. */
  async takePhoto(id: string, input: TakePhotoInput = {}, options?: RequestOptions): Promise<string> {
    const answer = await this.transport.request<{ commandId: string }>({
      method: 'POST',
      path: `/v1/devices/${enc(id)}/photos`,
      body: input,
      ...(options ? { options } : {}),
    });
    return answer.commandId;
  }
  /**
   * Confirms a device's alarms (人工确认报警): a JT/T 808 terminal is sent 0x8203 and clears them, so that its next SOS
   * is seen again; an MQTT device an alarm_confirmation command. Given to the device's outbox, sent now or when it is back.
   */
  confirmAlarms(id: string, alarms: ConfirmableAlarm[], options?: RequestOptions): Promise<AlarmConfirmation> {
    return this.transport.request({ method: 'POST', path: `/v1/devices/${enc(id)}/alarms/confirm`, body: { alarms }, ...(options ? { options } : {}) });
  }
}

/** The live map and attendance. */
export class Fleet {
  constructor(private readonly transport: Transport) {}
  live(query: { kind?: DeviceKind; crs?: CrsName } = {}, options?: RequestOptions): Promise<GeoJsonFeatureCollection> {
    return this.transport.request({ method: 'GET', path: '/v1/fleet', query, ...(options ? { options } : {}) });
  }
  attendance(day: string, options?: RequestOptions): Promise<Attendance> {
    return this.transport.request({ method: 'GET', path: '/v1/attendance', query: { day }, ...(options ? { options } : {}) });
  }
  /**
   * The newest device alerts (confirmations too), newest first, each with its event stream id as its SSE frame has it:
   * what a console shows when it opens, before `subscribeAll()` brings the next ones. `crs`: the places (`lat`, `lon`)
   * in that system, for a Chinese basemap; WGS-84 when absent, as on the stream.
   */
  async alerts(query: { limit?: number; crs?: CrsName } = {}, options?: RequestOptions): Promise<{ streamId: string; alert: DeviceAlert }[]> {
    const answer = await this.transport.request<{ items: { streamId: string; alert: DeviceAlert }[] }>({
      method: 'GET',
      path: '/v1/fleet/alerts',
      query: { limit: query.limit, crs: query.crs },
      ...(options ? { options } : {}),
    });
    return answer.items;
  }
  /** Stored positions as they arrive, at most one per device per throttleMs; resumes by itself. */
  positions(query: { throttleMs?: number; kind?: DeviceKind; crs?: CrsName } = {}, options?: SubscribeOptions): Subscription<GeoJsonFeature> {
    const params = new URLSearchParams(
      Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return subscribeTo<GeoJsonFeature>(this.transport, { path: `/v1/fleet/events${params.size ? `?${params}` : ''}`, event: 'position' }, options);
  }
}

export class Units {
  constructor(private readonly transport: Transport) {}
  async list(options?: RequestOptions): Promise<Unit[]> {
    return (await this.transport.request<{ items: Unit[] }>({ method: 'GET', path: '/v1/units', ...(options ? { options } : {}) })).items;
  }
  create(input: CreateUnitInput, options?: RequestOptions): Promise<Unit> {
    return this.transport.request({ method: 'POST', path: '/v1/units', body: input, ...(options ? { options } : {}) });
  }
  update(id: string, patch: UpdateUnitInput, options?: RequestOptions): Promise<Unit> {
    return this.transport.request({ method: 'PATCH', path: `/v1/units/${enc(id)}`, body: patch, ...(options ? { options } : {}) });
  }
}

export class StaffDirectory {
  constructor(private readonly transport: Transport) {}
  async list(options?: RequestOptions): Promise<Staff[]> {
    return (await this.transport.request<{ items: Staff[] }>({ method: 'GET', path: '/v1/staff', ...(options ? { options } : {}) })).items;
  }
  create(input: CreateStaffInput, options?: RequestOptions): Promise<Staff> {
    return this.transport.request({ method: 'POST', path: '/v1/staff', body: input, ...(options ? { options } : {}) });
  }
  update(id: string, patch: UpdateStaffInput, options?: RequestOptions): Promise<Staff> {
    return this.transport.request({ method: 'PATCH', path: `/v1/staff/${enc(id)}`, body: patch, ...(options ? { options } : {}) });
  }
}

/**
 * The CivicLoop client. Server side: `new CivicLoop({ baseUrl, apiKey: secretKey })`. Browser:
 * `new CivicLoop({ baseUrl, apiKey: publishableKey, token: () => fetchResidentToken() })`.
 */
export class CivicLoop {
  readonly tickets: Tickets;
  readonly units: Units;
  /** The tenant's categories (and, for admins, defining and changing them). */
  readonly catalogue: Catalogue;
  readonly staff: StaffDirectory;
  readonly devices: Devices;
  /** Devices that register themselves with a profile's key and secret (ThingsBoard's provisioning). */
  readonly provisioningProfiles: ProvisioningProfiles;
  readonly fleet: Fleet;
  readonly media: Media;
  readonly residents: Residents;
  readonly zones: Zones;
  readonly webhooks: Webhooks;
  /** Property platforms inside the tenant, with keys of their own. */
  readonly partners: Partners;
  readonly intake: Intake;
  /** Shared with adapters for other runtimes (@civicloop/sdk/wechat). */
  protected readonly transport: Transport;

  constructor(options: CivicLoopOptions) {
    if (!options.apiKey && !options.token) throw new TypeError('CivicLoop: pass apiKey (secret or publishable key) and/or token.');
    this.transport = new Transport(options);
    this.tickets = new Tickets(this.transport);
    this.units = new Units(this.transport);
    this.catalogue = new Catalogue(this.transport);
    this.staff = new StaffDirectory(this.transport);
    this.devices = new Devices(this.transport);
    this.provisioningProfiles = new ProvisioningProfiles(this.transport);
    this.fleet = new Fleet(this.transport);
    this.media = new Media(this.transport);
    this.residents = new Residents(this.transport);
    this.zones = new Zones(this.transport);
    this.webhooks = new Webhooks(this.transport);
    this.partners = new Partners(this.transport);
    this.intake = new Intake(this.transport);
  }

  categories(options?: RequestOptions): Promise<CategoryCatalogue> {
    return this.transport.request({ method: 'GET', path: '/v1/categories', ...(options ? { options } : {}) });
  }

  /** Who the credentials act as; `partner` when they are a partner's (its keys, or a token it signed). */
  me(options?: RequestOptions): Promise<{ actor: Actor; tenant: Tenant; via: string; partner?: Partner }> {
    return this.transport.request({ method: 'GET', path: '/v1/me', ...(options ? { options } : {}) });
  }

  /**
   * The address at a point, from the gateway's geocoder (GEOCODER): null where it knows none;
   * CL_ERR_GEOCODER_OFF when none is configured. Without `crs` the tenant's default system applies.
   */
  async reverseGeocode(point: { lat: number; lon: number; crs?: CrsName }, options?: RequestOptions & { language?: 'zh-CN' | 'en' }): Promise<string | null> {
    const { language, ...requestOptions } = options ?? {};
    const answer = await this.transport.request<{ address: string | null }>({
      method: 'GET',
      path: '/v1/geocode/reverse',
      query: { lat: point.lat, lon: point.lon, crs: point.crs, language },
      ...(options ? { options: requestOptions } : {}),
    });
    return answer.address;
  }

  /**
   * Issues a new key of a kind and revokes the previous ones (secret key only). The new key is
   * returned once; tokens signed with a revoked secret stop verifying.
   */
  async rotateKey(kind: 'secret' | 'publishable', options?: RequestOptions & { defaultCrs?: CrsName }): Promise<string> {
    const body = { kind, ...(options?.defaultCrs ? { defaultCrs: options.defaultCrs } : {}) };
    const result = await this.transport.request<{ key: string }>({ method: 'POST', path: '/v1/keys/rotate', body, ...(options ? { options } : {}) });
    return result.key;
  }

  /** Changes the tenant's rules (admin or secret key): web origins, time zone, reopen threshold, working hours. */
  updatePolicy(patch: UpdateTenantPolicyInput, options?: RequestOptions): Promise<Tenant> {
    return this.transport.request({ method: 'PATCH', path: '/v1/tenant/policy', body: patch, ...(options ? { options } : {}) });
  }

  /** KPIs of the tickets reported from one day to another (YYYY-MM-DD), in total or by a dimension. */
  stats(query: { from: string; to: string; by?: 'category' | 'channel' | 'unit' | 'zone' | 'day' }, options?: RequestOptions): Promise<StatsResult> {
    return this.transport.request({ method: 'GET', path: '/v1/stats', query, ...(options ? { options } : {}) });
  }

  /** One black spot with its inspections; `crs` gives its centre in that system. */
  blackSpot(code: string, options?: RequestOptions & { crs?: CrsName }): Promise<BlackSpot> {
    return this.transport.request({ method: 'GET', path: `/v1/blackspots/${enc(code)}`, ...crsQuery(options), ...(options ? { options } : {}) });
  }

  /**
   * A re-inspection of a black spot. Failed: what was found becomes a ticket (its category is
   * needed). Passed after the quiet period: the spot is closed out (`closed`, else `reason`).
   */
  inspectBlackSpot(code: string, input: BlackSpotInspectionInput, options?: RequestOptions): Promise<{ spot: BlackSpot; closed: boolean; reason?: string }> {
    return this.transport.request({ method: 'POST', path: `/v1/blackspots/${enc(code)}/inspections`, body: input, ...(options ? { options } : {}) });
  }

  /** The monthly ranking of the zones of a type (villages, roads, markets...) by composite score, best and worst first. */
  monthlyRanking(query: { month: string; type: ZoneType; limit?: number }, options?: RequestOptions): Promise<MonthlyRanking> {
    return this.transport.request({ method: 'GET', path: '/v1/rankings/monthly', query, ...(options ? { options } : {}) });
  }

  /** Black spots: places that keep producing tickets (open, closed or all); `crs` gives their centres in that system. */
  async blackSpots(query: { status?: 'open' | 'closed'; crs?: CrsName } = {}, options?: RequestOptions): Promise<BlackSpot[]> {
    return (await this.transport.request<{ items: BlackSpot[] }>({ method: 'GET', path: '/v1/blackspots', query, ...(options ? { options } : {}) })).items;
  }

  /**
   * Where the tenant's event stream is now. Read it before reading what you show, then subscribe
   * with `{ lastEventId }`: every change after this moment arrives, none is missed in between.
   */
  async eventPosition(options?: RequestOptions): Promise<string> {
    return (await this.transport.request<{ lastEventId: string }>({ method: 'GET', path: '/v1/events/position', ...(options ? { options } : {}) })).lastEventId;
  }

  /** Live ticket events; reconnects and resumes by itself. `crs`: a report's place in that system. */
  subscribe(options?: EventSubscribeOptions): Subscription {
    return subscribe(this.transport, options);
  }

  /**
   * Live ticket events and device alerts (SOS, fall, low battery, vehicle alarms; staff only) on
   * one resumable stream, each tagged with its kind. `crs`: their places in that system.
   */
  subscribeAll(options?: EventSubscribeOptions): Subscription<RealtimeMessage> {
    return subscribeAll(this.transport, options);
  }
}
