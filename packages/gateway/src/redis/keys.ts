/**
 * Every Redis key the gateway writes. A tenant's keys share the hash tag `{tenantId}` so a Lua
 * script that touches several of them runs on Redis Cluster unchanged (they live in one slot).
 */
export const PREFIX = 'cl:';

// Long: the key table, one line per key, so that every key name is built in one place.
function buildTenantKeys(tenantId: string) {
  const base = `${PREFIX}{${tenantId}}:`;
  return {
    tenant: `${base}tenant`,
    apiKeys: `${base}keys`,
    /** Partners (property platforms) of the tenant, JSON by id; their keys are in apiKeys with a partnerId. */
    partners: `${base}partners`,
    ticket: (id: string) => `${base}ticket:${id}`,
    history: (id: string) => `${base}history:${id}`,
    events: `${base}events`,
    numbers: `${base}numbers`,
    sequence: `${base}seq`,
    idempotency: (key: string) => `${base}idem:${key}`,
    /** A POST's stored response, replayed for a repeated Idempotency-Key (http/idempotent-replay.ts). */
    replay: (key: string) => `${base}idemr:${key}`,
    /** The tickets a stored photo (by its content hash) is attached to: who may see it without credentials. */
    photoTickets: (sha: string) => `${base}photo:${sha}`,
    units: `${base}units`,
    /** The tenant's own category definitions: c:<code> -> JSON, v:<code> -> its version. */
    categories: `${base}categories`,
    /** Webhook endpoints, JSON by id; their signing secrets, sealed, in a hash of their own. */
    webhooks: `${base}webhooks`,
    webhookSecrets: `${base}webhooks:secret`,
    /** Deliveries waiting for their next attempt, scored by when (ms). */
    webhookDue: `${base}webhooks:due`,
    webhookDelivery: (id: string) => `${base}whd:${id}`,
    /** An endpoint's recent delivery ids, newest first. */
    webhookLog: (webhookId: string) => `${base}whlog:${webhookId}`,
    /** Statistics: counters per report day, each ticket's attribution, and how far the stream was counted. */
    stats: {
      day: (day: string) => `${base}stats:day:${day}`,
      ticket: (id: string) => `${base}stats:tk:${id}`,
      cursor: `${base}stats:cursor`,
      lock: `${base}stats:lock`,
      /** Tickets reported in one grid cell, by report day (pruned to the window): what black spots are found from. */
      cellDays: (cell: string) => `${base}stats:cell:${cell}`,
      /** Attendance and vehicle counters of a day, by unit (see stats/workforce.ts). */
      workforce: (day: string) => `${base}stats:workforce:${day}`,
      /** Workers already counted present on a day (unit|staff id). */
      present: (day: string) => `${base}stats:present:${day}`,
      /** Claimed by the gateway that takes a workforce sample slot. */
      sampleSlot: (slot: number) => `${base}stats:sample:${slot}`,
    },
    /** Black spots by code (JSON); open ones by cell; the code sequence per month. */
    blackSpots: `${base}blackspots`,
    /** What changes on a black spot behind its record: `<code>:n` tickets since coded, `<code>:at` the last one, `<code>:esc` when escalated. */
    blackSpotActivity: `${base}blackspots:activity`,
    openBlackSpots: `${base}blackspots:open`,
    blackSpotSequence: `${base}blackspots:seq`,
    /** Counted batches whose reports the black-spot note has not yet taken: cells and counts (JSON) by the batch's last stream id. */
    blackSpotPending: `${base}blackspots:pending`,
    /** Zones (GeoJSON areas with their responsible units), JSON by id. */
    zones: `${base}zones`,
    staff: `${base}staff`,
    /** A driver's qualification certificate number (their IC card's) -> their staff id. */
    staffByQualification: `${base}staff:qualification`,
    devices: `${base}devices`,
    /** Device id -> hash of its current MQTT secret (to revoke it on rotation). */
    deviceCredentials: `${base}devices:credential`,
    /** Device id -> its OwnTracks encryption key, sealed with the master key (a device whose record says ownTracksEncryption). */
    deviceOwnTracksKeys: `${base}devices:owntracks-key`,
    /** Provisioning profiles (ThingsBoard's provision key and secret, and what a device provisioned by them becomes), JSON by id. */
    provisioningProfiles: `${base}provisioning`,
    /** A provisioned device's name -> its device id: each name is provisioned once in a tenant. */
    provisionedNames: `${base}provisioning:names`,
    /** Provisioning profile id -> how many devices it has provisioned (held below its maxDevices). */
    provisionedCounts: `${base}provisioning:counts`,
    /** The answer a device was provisioned with, sealed, for a few minutes: the same request again (its answer lost) gets it again. */
    provisionedAnswer: (name: string) => `${base}provisioning:answer:${name}`,
    /** Live positions, one GEO set per device kind, for nearest-worker search and the fleet map. */
    live: (kind: string) => `${base}live:${kind}`,
    deviceState: (id: string) => `${base}devstate:${id}`,
    /** Photos a vehicle's camera uploaded (JT/T 808 0x0801), newest first, JSON each; capped. */
    devicePhotos: (id: string) => `${base}devphotos:${id}`,
    /** A device's track for playback: a capped stream of position records. */
    track: (id: string) => `${base}track:${id}`,
    /** Recent fix times per device: a redelivered fix is recognised and not stored twice. */
    seenFixes: (id: string) => `${base}seen:${id}`,
    /** Devices by last message time, for the offline sweep. */
    lastSeen: `${base}lastseen`,
    /** Marks an alert as written (device, type, alarm, time), so a redelivered message raises it once. */
    alertSeen: (id: string) => `${base}alertseen:${id}`,
    /** The newest device alerts, newest first, each with its event stream id: what a console shows when it opens. */
    recentAlerts: `${base}alerts`,
    /** Badges whose wearer is checked in: device id -> check-in time. */
    onDuty: `${base}onduty`,
    /** Staff id -> the badge they wear, so an assignment reaches their badge. */
    badgeOf: `${base}badgeof`,
    /**
     * Commands waiting for a JT/T 808 terminal to confirm them (0x0001; a location request leaves
     * once asked as 0x8201), oldest last: sent again when it reconnects.
     */
    jt808Outbox: (deviceId: string) => `${base}jt808:outbox:${deviceId}`,
    /**
     * The questions (0x8302) last asked of a JT/T 808 terminal, newest first, each "<serial> <ticket id>":
     * a driver's answer (0x0302, naming the serial) counts on whichever connection or gateway it comes.
     */
    jt808Questions: (deviceId: string) => `${base}jt808:questions:${deviceId}`,
    /**
     * Commands waiting for an MQTT device to acknowledge them (PUBACK; OwnTracks' HTTP mode: handed
     * over in an answer), oldest last: sent again when it is back, on any gateway.
     */
    mqttOutbox: (deviceId: string) => `${base}mqtt:outbox:${deviceId}`,
    /** Set (with a TTL) by the gateway publishing an outbox entry to an external broker, so that no other publishes it too. */
    commandClaim: (entryId: string) => `${base}cmdclaim:${entryId}`,
    /** Staff id -> the vehicle they drive, so an assignment shows on its screen too. */
    vehicleOf: `${base}vehicleof`,
    /** Recent stored positions of every device, for the live map's event stream. */
    positions: `${base}positions`,
    /** Arrival detection state of a ticket: when its worker came within the enter distance. */
    arrival: (ticketId: string) => `${base}arrival:${ticketId}`,
    /** An anonymous resident's browser: hash of the secret that lets it renew its token. */
    anonymousResident: (id: string) => `${base}anon:${id}`,
    /** Finished shifts of a day (YYYYMMDD in the tenant zone). */
    shifts: (day: string) => `${base}shifts:${day}`,
    index: {
      all: `${base}idx:all`,
      status: (s: string) => `${base}idx:status:${s}`,
      category: (c: string) => `${base}idx:category:${c}`,
      unit: (u: string) => `${base}idx:unit:${u}`,
      assignee: (a: string) => `${base}idx:assignee:${a}`,
      /** The tickets assigned to a person that are not finished (no terminal status): their jobs, however many they had before. */
      assigneeOpen: (a: string) => `${base}idx:assignee-open:${a}`,
      /** The tickets dispatched to a unit that are not finished: its open work, however much it finished before. */
      unitOpen: (u: string) => `${base}idx:unit-open:${u}`,
      /** Indexes added after tickets were stored, by name -> when they were built over those tickets (store/index-builds.ts). */
      built: `${base}idx:built`,
      channel: (c: string) => `${base}idx:channel:${c}`,
      /** Tickets a person reported or follows: what a citizen may see. */
      party: (sub: string) => `${base}idx:party:${sub}`,
      /** Open work by resolve deadline, for overdue queries and escalation. */
      due: `${base}idx:due`,
      /** Each watched ticket by the time its next deadline warning or escalation falls due. */
      timers: `${base}idx:timers`,
      /** Where the open tickets of a category are (a GEO set): likely duplicates of a new report. */
      openNear: (c: string) => `${base}idx:near:${c}`,
    },
  };
}
export type TenantKeys = ReturnType<typeof buildTenantKeys>;

const cache = new Map<string, TenantKeys>();

/** The key builders of a tenant; cached, since every request needs them. */
export function tenantKeys(tenantId: string): TenantKeys {
  let keys = cache.get(tenantId);
  if (!keys) {
    if (cache.size >= 10_000) cache.delete(cache.keys().next().value!);
    keys = buildTenantKeys(tenantId);
    cache.set(tenantId, keys);
  }
  return keys;
}

export const globalKeys = {
  /** Device credential hash -> { tenantId, deviceId }: what an MQTT CONNECT is checked against. */
  deviceCredential: (hash: string) => `${PREFIX}devcred:${hash}`,
  /** A provisioning profile's provision key -> { tenantId, profileId, secretHash }: what a device's provisioning request is checked against. */
  provisionKey: (key: string) => `${PREFIX}provkey:${key}`,
  /** JT/T 808 terminal number -> { tenantId, deviceId }: what a terminal's header names it by. */
  jt808Terminal: (terminalId: string) => `${PREFIX}jt808:${terminalId}`,
  /** Set when a terminal has registered over JT/T 808 and been given its code; rotating the device's credential clears it. */
  jt808Registered: (terminalId: string) => `${PREFIX}jt808reg:${terminalId}`,
  /** API key hash -> { tenantId, keyId, kind }: the one lookup that cannot know the tenant first. */
  apiKey: (hash: string) => `${PREFIX}apikey:${hash}`,
  /** Pub/sub channel: "a device has a new command" (or "its record changed"), so the gateway holding its connection sends it (or reads it afresh). */
  deviceCommands: `${PREFIX}device-commands`,
  tenantCodes: `${PREFIX}tenantcodes`,
  tenants: `${PREFIX}tenants`,
  /** Tenants with webhook endpoints: the ones whose event streams the delivery loop reads. */
  webhookTenants: `${PREFIX}webhook-tenants`,
  /** An address the geocoder found for a point (rounded to 4 decimals, about 10 m), in one language. */
  geocoded: (provider: string, language: string, lat: string, lon: string) => `${PREFIX}geocode:${provider}:${language}:${lat},${lon}`,
  /** Requests (or failed authentications) from one client address in one minute, counted across gateways. */
  addressCount: (scope: string, address: string, minute: number) => `${PREFIX}rl:${scope}:${address}:${minute}`,
  /** The operator's POST responses, replayed for a repeated Idempotency-Key. */
  operatorReplay: (key: string) => `${PREFIX}idemr:operator:${key}`,
  /** What the health check writes to learn whether Redis takes writes (a time, expiring in a minute). */
  healthProbe: `${PREFIX}health-probe`,
};
