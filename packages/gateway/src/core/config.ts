import path from 'node:path';
import { CivicLoopError } from '@civicloop/model';
import { DEFAULT_REDIS_SOCKET_TIMEOUT_MS } from '../redis/connect.js';
import { DEFAULT_MEDIA_S3_TIMEOUT_MS } from '../media/s3-media-store.js';

type Parser<T> = (raw: string, name: string) => T;

const integer =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not an integer from ${min} to ${max}; change ${name}.`);
    }
    return value;
  };

const boolean: Parser<boolean> = (raw, name) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not a boolean; set ${name} to true or false.`);
};

const text: Parser<string> = (raw) => raw;

/** A port, or off: 0, false, no and off turn the listener off. */
const portOrOff: Parser<number | false> = (raw, name) => {
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  return integer(1, 65535)(raw, name);
};

const url: Parser<string> = (raw, name) => {
  for (const part of raw.split(',')) {
    try {
      new URL(part.trim());
    } catch {
      throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not a URL (e.g. redis://127.0.0.1:6379); change ${name}.`);
    }
  }
  return raw;
};

const brokerUrl: Parser<string> = (raw, name) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not a URL (e.g. mqtt://127.0.0.1:1883); change ${name}.`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(parsed.protocol))
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not an MQTT URL: use mqtt://, mqtts://, ws:// or wss://; change ${name}.`);
  return raw;
};

/** MQTT client ids and share names may not hold the topic wildcards or separators the broker would misread. */
const brokerClientId: Parser<string> = (raw, name) => {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(raw))
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" may hold only letters, digits, _ . and - (at most 100); change ${name}.`);
  return raw;
};
const brokerShareGroup: Parser<string> = (raw, name) => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw))
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" may hold only letters, digits, _ and - (no /, + or #); change ${name}.`);
  return raw;
};

/** fastify's trustProxy: false, true (trust every hop), a hop count, or addresses / CIDRs. */
const trustProxy: Parser<boolean | number | string> = (raw, name) => {
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^\d+$/.test(raw)) return Number(raw);
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.every((p) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p) || ['loopback', 'linklocal', 'uniquelocal'].includes(p))) return parts.join(',');
  throw new CivicLoopError(
    'CL_ERR_CONFIG',
    `${name}="${raw}" is not false, true, a number of proxy hops, or a list of proxy addresses (10.0.0.0/8,127.0.0.1); change ${name}.`,
  );
};

const geocoderName: Parser<'none' | 'nominatim' | 'amap'> = (raw, name) => {
  if (raw !== 'none' && raw !== 'nominatim' && raw !== 'amap')
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not a geocoder: use none, nominatim or amap; change ${name}.`);
  return raw;
};

const logLevel: Parser<string> = (raw, name) => {
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)) {
    throw new CivicLoopError('CL_ERR_CONFIG', `${name}="${raw}" is not a log level (fatal, error, warn, info, debug, trace, silent).`);
  }
  return raw;
};

/** One setting: the config key, its variable, its default (unset: undefined), how it is read and what it does. */
const setting = <const K extends string, T, const D extends string | undefined>(s: { key: K; env: string; default: D; parse: Parser<T>; doc: string }) => s;

export const SETTINGS = [
  setting({ key: 'port', env: 'PORT', default: '8080', parse: integer(0, 65535), doc: 'HTTP port (0 picks a free one).' }),
  setting({ key: 'host', env: 'HOST', default: '127.0.0.1', parse: text, doc: 'Address to listen on; 0.0.0.0 to accept connections from other machines.' }),
  setting({
    key: 'redisUrl',
    env: 'REDIS_URL',
    default: undefined,
    parse: url,
    doc: 'Redis to use. Unset: the gateway starts its own redis-server (AOF on) with data under DATA_DIR/redis.',
  }),
  setting({
    key: 'redisCluster',
    env: 'REDIS_CLUSTER',
    default: 'false',
    parse: boolean,
    doc: 'Treat REDIS_URL as a comma-separated list of Redis Cluster seed nodes.',
  }),
  setting({
    key: 'redisWaitReplicas',
    env: 'REDIS_WAIT_REPLICAS',
    default: '0',
    parse: integer(0, 16),
    doc:
      'Replicas that must confirm a ticket write or a batch of stored positions (Redis ' +
      'WAIT) before the gateway answers it (HTTP) or acknowledges it (MQTT PUBACK, ' +
      'JT/T 808 0x8001). 0: answer once the primary has it. Each such write then takes ' +
      'one more round trip to a replica (see docs/scaling.md for the measured cost).',
  }),
  setting({
    key: 'redisWaitTimeoutMs',
    env: 'REDIS_WAIT_TIMEOUT_MS',
    default: '1000',
    parse: integer(1, 60_000),
    doc:
      'How long a write waits for REDIS_WAIT_REPLICAS replicas; past it the request fails with ' +
      'CL_ERR_NOT_REPLICATED (the write stays on the primary) and a device message goes unacknowledged.',
  }),
  setting({
    key: 'redisSocketTimeoutMs',
    env: 'REDIS_SOCKET_TIMEOUT_MS',
    default: String(DEFAULT_REDIS_SOCKET_TIMEOUT_MS),
    parse: integer(0, 600_000),
    doc:
      'How long Redis may leave a command unanswered before the gateway takes the connection for dead: what was waiting ' +
      'fails with CL_ERR_UNAVAILABLE (503) and the client reconnects. A hung, paused or unreachable Redis then costs a ' +
      'request this long, not forever. 0: wait forever. Must be more than REDIS_WAIT_TIMEOUT_MS.',
  }),
  setting({
    key: 'embeddedRedisPort',
    env: 'EMBEDDED_REDIS_PORT',
    default: '0',
    parse: integer(0, 65535),
    doc: 'Port of the embedded redis-server when REDIS_URL is unset (0 picks a free one; it listens on 127.0.0.1 only).',
  }),
  setting({
    key: 'dataDir',
    env: 'DATA_DIR',
    default: '.data',
    parse: text,
    doc: 'Directory for the embedded Redis, the generated master key and the demo tenant file (relative to the working directory).',
  }),
  setting({
    key: 'logLevel',
    env: 'LOG_LEVEL',
    default: 'info',
    parse: logLevel,
    doc: 'pino log level. Credentials in URLs and what a failed Redis write carried are never logged (docs/security.md).',
  }),
  setting({
    key: 'masterKey',
    env: 'CIVICLOOP_MASTER_KEY',
    default: undefined,
    parse: text,
    doc: 'Encrypts token-signing keys at rest. Unset: generated once into DATA_DIR/master.key. Set it in production and keep it out of Redis backups.',
  }),
  setting({
    key: 'operatorToken',
    env: 'CIVICLOOP_OPERATOR_TOKEN',
    default: undefined,
    parse: text,
    doc:
      'Bearer token for tenant administration (POST /v1/tenants) and the gateway-wide ' +
      'refusal counters (GET /v1/telemetry/unattributed). Unset: those routes are disabled.',
  }),
  setting({
    key: 'brokerHookToken',
    env: 'BROKER_HOOK_TOKEN',
    default: undefined,
    parse: text,
    doc:
      'Bearer token an external MQTT broker (EMQX) sends with its HTTP authentication and authorization ' +
      'calls (POST /v1/broker/emqx/authenticate and /authorize). Unset: those routes are disabled.',
  }),
  setting({
    key: 'bodyLimitBytes',
    env: 'BODY_LIMIT_BYTES',
    default: '1048576',
    parse: integer(1024, 50 * 1048576),
    doc: 'Largest JSON request body accepted.',
  }),
  setting({
    key: 'idempotencyTtlSeconds',
    env: 'IDEMPOTENCY_TTL_SECONDS',
    default: '86400',
    parse: integer(60, 30 * 86400),
    doc: 'How long an Idempotency-Key is remembered.',
  }),
  setting({
    key: 'tokenMaxTtlSeconds',
    env: 'TOKEN_MAX_TTL_SECONDS',
    default: '3600',
    parse: integer(60, 7 * 86400),
    doc: 'Longest token lifetime (exp - iat) accepted.',
  }),
  setting({
    key: 'authCacheTtlMs',
    env: 'AUTH_CACHE_TTL_MS',
    default: '30000',
    parse: integer(0, 3600_000),
    doc: 'How long key and tenant lookups are cached in memory; a revoked key stops working within this time.',
  }),
  setting({
    key: 'streamMaxLen',
    env: 'STREAM_MAXLEN',
    default: '100000',
    parse: integer(100, 100_000_000),
    doc: 'Approximate number of events kept in each tenant stream for SSE resume.',
  }),
  setting({
    key: 'ticketCacheEntries',
    env: 'TICKET_CACHE_ENTRIES',
    default: '5000',
    parse: integer(0, 1_000_000),
    doc:
      'How many tickets each gateway keeps parsed for list pages, by revision: a page reads from Redis only the documents that changed since. ' +
      'Each holds a parsed ticket and, once a page has shown it, its answer form; 0 turns the cache off.',
  }),
  setting({
    key: 'shutdownGraceMs',
    env: 'SHUTDOWN_GRACE_MS',
    default: '10000',
    parse: integer(0, 600_000),
    doc: 'How long a shutdown waits for in-flight requests before closing connections.',
  }),
  setting({
    key: 'sseHeartbeatMs',
    env: 'SSE_HEARTBEAT_MS',
    default: '15000',
    parse: integer(100, 600_000),
    doc: 'Interval of SSE keep-alive comments (and of blocking stream reads).',
  }),
  setting({
    key: 'publicUrl',
    env: 'PUBLIC_URL',
    default: undefined,
    parse: url,
    doc: 'URL clients reach the gateway at, for printed links. Unset: http://HOST:PORT.',
  }),
  setting({ key: 'mqttEnabled', env: 'MQTT_ENABLED', default: 'true', parse: boolean, doc: 'Run the embedded MQTT broker for vehicle and badge telemetry.' }),
  setting({
    key: 'mqttBrokerUrl',
    env: 'MQTT_BROKER_URL',
    default: undefined,
    parse: brokerUrl,
    doc:
      'An external MQTT 5 broker (cluster) the devices connect to, e.g. mqtt://broker:1883: ' +
      'the gateway then runs no broker of its own (MQTT_ENABLED, MQTT_PORT and ' +
      "MQTT_WS_PORT are ignored), takes the devices' native and OwnTracks messages from it through " +
      'a shared subscription and sends their commands through it. See docs/scaling.md.',
  }),
  setting({
    key: 'mqttBrokerUsername',
    env: 'MQTT_BROKER_USERNAME',
    default: undefined,
    parse: text,
    doc: "The gateway's own account on the external broker (MQTT_BROKER_URL).",
  }),
  setting({ key: 'mqttBrokerPassword', env: 'MQTT_BROKER_PASSWORD', default: undefined, parse: text, doc: 'Password of MQTT_BROKER_USERNAME.' }),
  setting({
    key: 'mqttBrokerClientId',
    env: 'MQTT_BROKER_CLIENT_ID',
    default: undefined,
    parse: brokerClientId,
    doc:
      "This gateway's MQTT client id on the external broker (its connections add -1, -2...). Give each gateway its own, the same across restarts: the broker " +
      "keeps the gateway's session, and resends what the gateway had not acknowledged " +
      'when it comes back under the same id. Unset: civicloop-<host name>-<PORT>.',
  }),
  setting({
    key: 'mqttBrokerShareGroup',
    env: 'MQTT_BROKER_SHARE_GROUP',
    default: 'civicloop',
    parse: brokerShareGroup,
    doc: 'The shared subscription group ($share/<group>/...) the gateways subscribe in: the broker gives each message to one member of the group.',
  }),
  setting({
    key: 'mqttBrokerSubscribers',
    env: 'MQTT_BROKER_SUBSCRIBERS',
    default: '4',
    parse: integer(1, 64),
    doc:
      'Connections each gateway subscribes with. Each stores as many messages at once as the broker lets it have ' +
      'unacknowledged (mosquitto: max_inflight_messages, 20 by default) and acknowledges each once stored, in order.',
  }),
  setting({
    key: 'mqttBrokerSessionExpirySeconds',
    env: 'MQTT_BROKER_SESSION_EXPIRY_SECONDS',
    default: '86400',
    parse: integer(0, 4_294_967_294),
    doc:
      "How long the broker keeps a gateway's session (its subscription and the messages given to it and not yet acknowledged) " +
      "after the gateway goes away. A gateway that does not come back within it loses those messages to the broker's expiry.",
  }),
  setting({
    key: 'mqttBrokerDynsec',
    env: 'MQTT_BROKER_DYNSEC',
    default: 'false',
    parse: boolean,
    doc:
      'The external broker is mosquitto 2 with its dynamic security plugin: registering, ' +
      'disabling, enabling and rotating a device over the HTTP API creates, ' +
      'disables, enables and re-passwords its account there, with a role that allows ' +
      'only its own topics. MQTT_BROKER_USERNAME must be a dynamic security admin.',
  }),
  setting({
    key: 'mqttBrokerDynsecTimeoutMs',
    env: 'MQTT_BROKER_DYNSEC_TIMEOUT_MS',
    default: '5000',
    parse: integer(100, 120_000),
    doc:
      "How long a device registration, rotation or (dis)abling waits for mosquitto's dynamic security " +
      'plugin to answer; past it the request fails with CL_ERR_BROKER_UNAVAILABLE, to be retried.',
  }),
  setting({ key: 'mqttPort', env: 'MQTT_PORT', default: '1883', parse: integer(0, 65535), doc: 'MQTT over TCP port (0 picks a free one).' }),
  setting({ key: 'mqttWsPort', env: 'MQTT_WS_PORT', default: '8083', parse: integer(0, 65535), doc: 'MQTT over WebSocket port (0 picks a free one).' }),
  setting({
    key: 'deviceOfflineSeconds',
    env: 'DEVICE_OFFLINE_SECONDS',
    default: '600',
    parse: integer(10, 86400),
    doc: 'A device that sent nothing for this long is marked offline.',
  }),
  setting({
    key: 'telemetryMaxPayloadBytes',
    env: 'TELEMETRY_MAX_PAYLOAD_BYTES',
    default: '16384',
    parse: integer(256, 1048576),
    doc: 'Largest telemetry message accepted; larger ones are dropped and counted.',
  }),
  setting({
    key: 'mqttPreAuthMaxBytes',
    env: 'MQTT_PREAUTH_MAX_BYTES',
    default: '8192',
    parse: integer(512, 1048576),
    doc:
      'Bytes an MQTT client may send before it has authenticated (its CONNECT, with will ' +
      'and credentials); a connection announcing or sending more is closed at once.',
  }),
  setting({
    key: 'mqttConnectTimeoutMs',
    env: 'MQTT_CONNECT_TIMEOUT_MS',
    default: '10000',
    parse: integer(100, 120_000),
    doc: 'An MQTT connection that has not authenticated within this time is closed.',
  }),
  setting({
    key: 'jt808Port',
    env: 'JT808_PORT',
    default: '6808',
    parse: portOrOff,
    doc: 'TCP port for JT/T 808 terminals (vehicle GPS terminals, work badges); 0 or false turns the listener off.',
  }),
  setting({
    key: 'jt808AuthTimeoutMs',
    env: 'JT808_AUTH_TIMEOUT_MS',
    default: '30000',
    parse: integer(100, 600_000),
    doc: 'A JT/T 808 connection that has not authenticated (0x0102) within this time is closed; registering (0x0100) does not extend it.',
  }),
  setting({
    key: 'jt808IdleSeconds',
    env: 'JT808_IDLE_SECONDS',
    default: '300',
    parse: integer(10, 86_400),
    doc: 'A JT/T 808 terminal that sends nothing, not even a heartbeat, for this long is disconnected.',
  }),
  setting({
    key: 'jt808MaxMessageBytes',
    env: 'JT808_MAX_MESSAGE_BYTES',
    default: '65536',
    parse: integer(1024, 1048576),
    doc:
      'Largest JT/T 808 message accepted, after its sub-packages are put together (a camera photo is one: raise it for photos larger ' +
      'than this); a connection holds at most this much of an unfinished message.',
  }),
  setting({
    key: 'mqttMaxPendingPerAddress',
    env: 'MQTT_MAX_PENDING_PER_ADDRESS',
    default: '32',
    parse: integer(0, 100_000),
    doc:
      'Connections one address may hold open before they authenticate; more are closed ' +
      'at once (0: no cap). Raise it when many devices share one address (carrier NAT).',
  }),
  setting({
    key: 'trackMaxLen',
    env: 'TRACK_MAXLEN',
    default: '20000',
    parse: integer(100, 10_000_000),
    doc: 'Approximate number of positions kept per device track.',
  }),
  setting({
    key: 'arrivalEnterMeters',
    env: 'ARRIVAL_ENTER_METERS',
    default: '30',
    parse: integer(1, 5000),
    doc: 'A worker (their badge, or the vehicle they drive) this close to an accepted ticket starts counting as arriving.',
  }),
  setting({
    key: 'arrivalExitMeters',
    env: 'ARRIVAL_EXIT_METERS',
    default: '60',
    parse: integer(1, 10000),
    doc: 'Only leaving beyond this distance resets arrival (hysteresis against GPS jitter); at least ARRIVAL_ENTER_METERS.',
  }),
  setting({
    key: 'arrivalDwellSeconds',
    env: 'ARRIVAL_DWELL_SECONDS',
    default: '60',
    parse: integer(0, 3600),
    doc: 'How long a worker must stay within range before the ticket moves to on_site by itself.',
  }),
  setting({
    key: 'dispatchRadiusMeters',
    env: 'DISPATCH_RADIUS_METERS',
    default: '3000',
    parse: integer(10, 100000),
    doc: 'Default search radius for the nearest on-duty worker.',
  }),
  setting({
    key: 'mediaDir',
    env: 'MEDIA_DIR',
    default: undefined,
    parse: text,
    doc: 'Where uploaded photos are stored on local disk. Unset: DATA_DIR/media.',
  }),
  setting({ key: 'mediaMaxBytes', env: 'MEDIA_MAX_BYTES', default: '10485760', parse: integer(1024, 100 * 1048576), doc: 'Largest photo upload accepted.' }),
  setting({
    key: 'mediaS3Endpoint',
    env: 'MEDIA_S3_ENDPOINT',
    default: undefined,
    parse: url,
    doc:
      'Store photos in an S3-compatible bucket at this endpoint (AWS S3, MinIO, Aliyun OSS, ' +
      'Tencent COS) instead of on local disk. Needs MEDIA_S3_BUCKET and the two key variables.',
  }),
  setting({ key: 'mediaS3Bucket', env: 'MEDIA_S3_BUCKET', default: undefined, parse: text, doc: 'Bucket for photos when MEDIA_S3_ENDPOINT is set.' }),
  setting({ key: 'mediaS3Region', env: 'MEDIA_S3_REGION', default: 'us-east-1', parse: text, doc: 'Region used to sign S3 requests.' }),
  setting({ key: 'mediaS3AccessKeyId', env: 'MEDIA_S3_ACCESS_KEY_ID', default: undefined, parse: text, doc: 'Access key id for the photo bucket.' }),
  setting({
    key: 'mediaS3SecretAccessKey',
    env: 'MEDIA_S3_SECRET_ACCESS_KEY',
    default: undefined,
    parse: text,
    doc: 'Secret access key for the photo bucket.',
  }),
  setting({
    key: 'mediaS3PathStyle',
    env: 'MEDIA_S3_PATH_STYLE',
    default: 'true',
    parse: boolean,
    doc: 'Address objects as endpoint/bucket/key (MinIO and most self-hosted stores); false for bucket.endpoint/key (AWS virtual-hosted style).',
  }),
  setting({
    key: 'mediaS3TimeoutMs',
    env: 'MEDIA_S3_TIMEOUT_MS',
    default: String(DEFAULT_MEDIA_S3_TIMEOUT_MS),
    parse: integer(100, 600_000),
    doc:
      'How long the photo bucket may take to answer a request (to its headers); past it the upload or the photo fails with ' +
      'CL_ERR_UNAVAILABLE (503) naming this variable, instead of waiting on a store that hangs.',
  }),
  setting({
    key: 'geocoder',
    env: 'GEOCODER',
    default: 'none',
    parse: geocoderName,
    doc:
      "Who turns a point into an address for the report widget's pin (GET /v1/geocode/reverse): none, nominatim (OpenStreetMap's " +
      "Nominatim or a server of your own) or amap (AMap's web service, needs GEOCODER_KEY). See docs/api.md#reverse-geocoding.",
  }),
  setting({
    key: 'geocoderUrl',
    env: 'GEOCODER_URL',
    default: undefined,
    parse: url,
    doc: 'Where the geocoder is. Unset: https://nominatim.openstreetmap.org for nominatim, https://restapi.amap.com for amap.',
  }),
  setting({
    key: 'geocoderKey',
    env: 'GEOCODER_KEY',
    default: undefined,
    parse: text,
    doc: "The geocoder's key (AMap's web-service key); stays on the gateway.",
  }),
  setting({
    key: 'geocoderTimeoutMs',
    env: 'GEOCODER_TIMEOUT_MS',
    default: '3000',
    parse: integer(100, 60_000),
    doc: 'How long the gateway waits for the geocoder before answering CL_ERR_GEOCODER_UNAVAILABLE.',
  }),
  setting({
    key: 'geocoderCacheSeconds',
    env: 'GEOCODER_CACHE_SECONDS',
    default: '604800',
    parse: integer(0, 365 * 86_400),
    doc:
      'How long an address found for a point (rounded to about 10 m) is kept in Redis and answered ' +
      "again without asking the geocoder (0: not kept). Nominatim's usage policy asks for caching.",
  }),
  setting({
    key: 'rateLimitPerKey',
    env: 'RATE_LIMIT_PER_KEY',
    default: '6000',
    parse: integer(0, 10_000_000),
    doc: 'Requests a minute one key, token subject or device (its phone protocol posts) may make to one gateway (0: no limit).',
  }),
  setting({
    key: 'schedulerEnabled',
    env: 'SCHEDULER_ENABLED',
    default: 'true',
    parse: boolean,
    doc:
      'Run the background passes in this gateway: the deadline scheduler (warnings and escalations) and the statistics ' +
      'projector (counters, black spots, workforce samples). Any number of gateways may, work is claimed atomically. ' +
      "With none, a tenant's events are counted only when GET /v1/stats or GET /v1/blackspots is read (each counts " +
      'first), and vehicle samples and black-spot escalations stop.',
  }),
  setting({
    key: 'statsThread',
    env: 'STATS_THREAD',
    default: 'true',
    parse: boolean,
    doc:
      "With SCHEDULER_ENABLED, run the statistics projector's passes in a worker thread of the gateway, with its own Redis " +
      'connection, so that counting never holds the thread that serves requests (false: on that thread; the thread costs ' +
      "some 30 MB of memory, its own copy of the gateway's code). A thread that ends " +
      'is started again after a second; one that cannot start hands the passes back to the main thread. Started by the ' +
      'gateway command (civicloop-gateway start, startGateway); an app built with buildApp counts on its own thread.',
  }),
  setting({
    key: 'rebuildIndexes',
    env: 'REBUILD_INDEXES',
    default: 'false',
    parse: boolean,
    doc:
      "At start, build the indexes added since tickets were stored (each assignee's and each unit's unfinished tickets) " +
      'for every tenant again, even where built. Every gateway builds them once for a tenant whose tickets predate them; after ' +
      'upgrading several gateways one by one, start one with this set once the last of the older ones has stopped, for ' +
      'what those older ones wrote meanwhile (the tickets they dispatched are added; those they finished or gave to someone else are taken out).',
  }),
  setting({
    key: 'schedulerPollMs',
    env: 'SCHEDULER_POLL_MS',
    default: '1000',
    parse: integer(10, 60_000),
    doc:
      'The pause between two passes of the deadline scheduler (due warnings and escalations), and between two passes ' +
      'of the statistics projector over the event streams.',
  }),
  setting({
    key: 'fleetSampleSeconds',
    env: 'FLEET_SAMPLE_SECONDS',
    default: '300',
    parse: integer(10, 3600),
    doc:
      'How often the statistics loop samples which vehicles are online (the vehicle online rate is the share ' +
      'of samples that found a vehicle online) and who is on duty, and looks for black spots open too long.',
  }),
  setting({
    key: 'blackSpotThreshold',
    env: 'BLACKSPOT_THRESHOLD',
    default: '5',
    parse: integer(2, 10_000),
    doc: 'This many tickets in one grid cell (about 220 m) within BLACKSPOT_WINDOW_DAYS code the place as a black spot.',
  }),
  setting({ key: 'blackSpotWindowDays', env: 'BLACKSPOT_WINDOW_DAYS', default: '30', parse: integer(1, 365), doc: 'The window black spots are counted over.' }),
  setting({
    key: 'blackSpotQuietDays',
    env: 'BLACKSPOT_QUIET_DAYS',
    default: '30',
    parse: integer(1, 365),
    doc: 'A black spot closes out only after this many days without a new ticket in its cell, and a passing re-inspection.',
  }),
  setting({
    key: 'blackSpotEscalateDays',
    env: 'BLACKSPOT_ESCALATE_DAYS',
    default: '90',
    parse: integer(1, 3650),
    doc: 'A black spot still open after this many days is escalated.',
  }),
  setting({
    key: 'duplicateRadiusMeters',
    env: 'DUPLICATE_RADIUS_METERS',
    default: '150',
    parse: integer(0, 10_000),
    doc: 'A new report this close to an open ticket of the same category is flagged as a likely duplicate (0: never).',
  }),
  setting({
    key: 'duplicateWindowHours',
    env: 'DUPLICATE_WINDOW_HOURS',
    default: '72',
    parse: integer(1, 24 * 365),
    doc: 'Only open tickets reported within this many hours count as likely duplicates.',
  }),
  setting({
    key: 'webhooksEnabled',
    env: 'WEBHOOKS_ENABLED',
    default: 'true',
    parse: boolean,
    doc: 'Run the webhook delivery loop in this gateway (any number of gateways may; work is claimed atomically).',
  }),
  setting({
    key: 'webhookPollMs',
    env: 'WEBHOOK_POLL_MS',
    default: '500',
    parse: integer(10, 60_000),
    doc: 'How often the webhook loop looks for new events and due retries.',
  }),
  setting({
    key: 'webhookTimeoutMs',
    env: 'WEBHOOK_TIMEOUT_MS',
    default: '10000',
    parse: integer(100, 120_000),
    doc: 'How long a webhook endpoint has to answer; a delivery in flight is left to another gateway after twice this.',
  }),
  setting({
    key: 'webhookRetryBaseMs',
    env: 'WEBHOOK_RETRY_BASE_MS',
    default: '10000',
    parse: integer(10, 3_600_000),
    doc: 'Wait before the first retry of a failed delivery; doubles with each attempt (with jitter), up to an hour.',
  }),
  setting({
    key: 'webhookMaxAttempts',
    env: 'WEBHOOK_MAX_ATTEMPTS',
    default: '12',
    parse: integer(1, 100),
    doc: 'Attempts before a delivery is marked failed.',
  }),
  setting({
    key: 'webhookAllowPrivateTargets',
    env: 'WEBHOOK_ALLOW_PRIVATE_TARGETS',
    default: 'false',
    parse: boolean,
    doc: 'Allow webhook URLs on loopback and private networks (refused by default, against request forgery).',
  }),
  setting({
    key: 'rateLimitAuthFailuresPerAddress',
    env: 'RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS',
    default: '60',
    parse: integer(0, 10_000_000),
    doc:
      'Failed authentications a minute one client address may make (HTTP 401s, refused MQTT CONNECTs, bad Open311 ' +
      'api_keys), counted in Redis across gateways; past it the address gets 429 until the minute ends (0: no limit).',
  }),
  setting({
    key: 'rateLimitKeylessPerAddress',
    env: 'RATE_LIMIT_KEYLESS_PER_ADDRESS',
    default: '1200',
    parse: integer(0, 10_000_000),
    doc:
      'Requests a minute one client address may make to routes that need no key (Open311, photos, ' +
      'the OpenAPI document, widget files), counted in Redis across gateways (0: no limit).',
  }),
  setting({
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    default: 'false',
    parse: trustProxy,
    doc:
      'Behind a load balancer or reverse proxy: true (trust X-Forwarded-For from any ' +
      "hop), a number of hops, or the proxies' addresses / CIDRs (10.0.0.0/8,127.0.0.1). " +
      'Per-address limits then count the client, not the proxy. Leave false when clients connect directly, or any client could pick its address.',
  }),
  setting({
    key: 'rateLimitPerAddress',
    env: 'RATE_LIMIT_PER_ADDRESS',
    default: '3000',
    parse: integer(0, 10_000_000),
    doc: 'Requests a minute one client address may make to one gateway (0: no limit).',
  }),
] as const;

type Setting = (typeof SETTINGS)[number];

/**
 * Every setting of the gateway, read from the environment once at start-up: derived from
 * SETTINGS, so a setting is written once (its key, variable, default, parser and meaning);
 * docs/configuration.md lists them and a test keeps the two equal. A setting without a default is
 * undefined when its variable is unset.
 */
export type GatewayConfig = { -readonly [S in Setting as S['key']]: S['default'] extends string ? ReturnType<S['parse']> : ReturnType<S['parse']> | undefined };

/** Parses and validates the whole configuration; the first bad variable is named in the error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const config: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = env[s.env]?.trim() || s.default;
    config[s.key] = raw === undefined ? undefined : (s.parse as Parser<unknown>)(raw, s.env);
  }
  const result = { ...(config as unknown as GatewayConfig), ...overrides };
  result.dataDir = path.resolve(result.dataDir);
  if (result.mediaS3Endpoint) {
    for (const [value, name] of [
      [result.mediaS3Bucket, 'MEDIA_S3_BUCKET'],
      [result.mediaS3AccessKeyId, 'MEDIA_S3_ACCESS_KEY_ID'],
      [result.mediaS3SecretAccessKey, 'MEDIA_S3_SECRET_ACCESS_KEY'],
    ] as const) {
      if (!value)
        throw new CivicLoopError(
          'CL_ERR_CONFIG',
          `MEDIA_S3_ENDPOINT is set but ${name} is not; set ${name}, or unset MEDIA_S3_ENDPOINT to keep photos on local disk.`,
        );
    }
  }
  if (result.mqttBrokerDynsec && !result.mqttBrokerUrl) {
    throw new CivicLoopError(
      'CL_ERR_CONFIG',
      'MQTT_BROKER_DYNSEC is true but MQTT_BROKER_URL is not set; set MQTT_BROKER_URL to the mosquitto broker, or unset MQTT_BROKER_DYNSEC.',
    );
  }
  if (result.geocoder === 'amap' && !result.geocoderKey) {
    throw new CivicLoopError('CL_ERR_CONFIG', 'GEOCODER=amap needs GEOCODER_KEY (the AMap web-service key); set GEOCODER_KEY, or set GEOCODER to none.');
  }
  if (result.redisSocketTimeoutMs > 0 && result.redisWaitReplicas > 0 && result.redisSocketTimeoutMs <= result.redisWaitTimeoutMs) {
    throw new CivicLoopError(
      'CL_ERR_CONFIG',
      `REDIS_SOCKET_TIMEOUT_MS (${result.redisSocketTimeoutMs}) must be more than REDIS_WAIT_TIMEOUT_MS (${result.redisWaitTimeoutMs}), ` +
        'or a wait for replicas would be taken for a dead connection; raise REDIS_SOCKET_TIMEOUT_MS.',
    );
  }
  if (result.arrivalExitMeters < result.arrivalEnterMeters) {
    throw new CivicLoopError(
      'CL_ERR_CONFIG',
      `ARRIVAL_EXIT_METERS (${result.arrivalExitMeters}) must be at least ARRIVAL_ENTER_METERS (${result.arrivalEnterMeters}); raise ARRIVAL_EXIT_METERS.`,
    );
  }
  return result;
}
