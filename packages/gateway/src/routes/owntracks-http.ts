import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, DEFAULT_DECODE_LIMITS, decodeTelemetry, type Device } from '@civicloop/model';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { ownTracksOpener, sealForOwnTracks } from '../auth/owntracks-key.js';
import { DeviceOutbox } from '../store/device-outbox.js';
import { hasOwnTracksForm, reportLocation, setWaypoints } from '../telemetry/owntracks-command.js';
import { OwnTracksJobs } from '../telemetry/owntracks-jobs.js';
import { errorResponses } from './shared-schemas.js';
import { basicCredentials, deviceOfSecret, ingestOverHttp } from './device-http.js';

/**
 * The OwnTracks apps' HTTP mode (booklet, tech/http): the app POSTs each message it would
 * publish over MQTT, as the same JSON, to one URL, with HTTP Basic credentials from its
 * Identification settings: the device id as Username, the device secret as Password. The answer
 * is a JSON array of messages for the app: `[]`, or what waits for the device (a location
 * request, its jobs as regions).
 *
 * OwnTracks for Android sends a message again until it is answered 2xx, holding every later one
 * behind it for weeks (100,000 tries for a location), so only what the app can put right is an
 * error: credentials (401), a disabled device (403), a store that cannot be reached (503). A
 * message the gateway refuses is answered 200 `[]` and counted, as an MQTT PUBACK does, with its
 * reason in the `CivicLoop-Telemetry` header for whoever tries the endpoint by hand.
 */
export const ownTracksHttpRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const limits = { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: services.config.telemetryMaxPayloadBytes };
  // Bodies over TELEMETRY_MAX_PAYLOAD_BYTES and up to BODY_LIMIT_BYTES are read, to be refused as
  // too_large with a 200; only a body past both is answered 413.
  const bodyLimit = Math.max(services.config.bodyLimitBytes, limits.maxPayloadBytes + 1);
  // The body as bytes, whatever it claims to be: the apps send application/json, the booklet's
  // own curl example sends a form content type, and a zero-length body is a normal message.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  // A device protocol, not an API operation: described in docs/devices.md, not in the OpenAPI
  // document, and not under the Idempotency-Key contract (a resent fix is recognised by its
  // device and fix time). It needs no API key: the device's own secret is its credential.
  const schema = {
    hide: true,
    response: {
      200: Type.Union(
        [
          Type.Array(Type.Unknown(), { description: "messages for the app: a waiting location request, the wearer's jobs as regions, or none" }),
          Type.Object({ _type: Type.Literal('encrypted'), data: Type.String() }, { description: 'the same, sealed for a device that encrypts' }),
        ],
        { description: 'messages for the app' },
      ),
      ...errorResponses,
    },
  };
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };

  // The apps send credentials unasked; browsers and curl are told which kind to send.
  app.addHook('onSend', async (_request, reply) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Basic realm="CivicLoop OwnTracks", charset="UTF-8"');
  });

  app.post('/v1/owntracks', { config, schema, bodyLimit }, async (request, reply) => {
    const credentials = basicCredentials(request.headers.authorization);
    if (!credentials)
      throw new CivicLoopError(
        'CL_ERR_UNAUTHENTICATED',
        "Send HTTP Basic credentials: in the app's Identification settings, the device id as Username and its secret as Password.",
      );
    const login = await deviceOfSecret(services, request.ip, credentials.password);
    const { tenantId, device } = login;
    if (credentials.username !== device.id)
      throw new CivicLoopError('CL_ERR_INVALID_KEY', `The secret belongs to device ${device.id}; set the app's Username to ${device.id}.`);
    const body = request.body as Buffer | undefined;
    // Sent when a friend is removed in the app (an MQTT retained-message clear); nothing to keep.
    const key = device.ownTracksEncryption ? await services.devices.ownTracksKey(tenantId, device.id) : undefined;
    if (!body || body.length === 0) return commandsFor(tenantId, device, key);

    // No topic in HTTP mode: the message's _type says what it is, as on the app's main topic.
    const topic = { format: 'owntracks' as const, user: device.id, device: device.id, channel: 'location' as const };
    const outcome = await ingestOverHttp(services, request, login, () => decodeTelemetry(topic, body, device, Date.now(), limits, key && ownTracksOpener(key)));
    if (outcome.type !== 'accepted') reply.header('civicloop-telemetry', `${outcome.type}; reason=${outcome.reason}`);
    return commandsFor(tenantId, device, key);
  });

  /**
   * The answer carries what waits in the device's outbox and has an OwnTracks form, each once
   * however many wait: a location request as the app's own `reportLocation`; an assignment or a
   * withdrawal as `setWaypoints` with the wearer's jobs as they are now (owntracks-jobs.ts).
   * Handed over in a 2xx, it counts as delivered, as the app counts its post. To a device that
   * encrypts, it goes sealed with its key, the whole array as one `encrypted` message, as the
   * OwnTracks Recorder answers (and the apps read); an empty answer holds nothing to hide and
   * goes as `[]`.
   */
  const outbox = new DeviceOutbox(services.redis);
  const jobs = new OwnTracksJobs(services);
  async function commandsFor(tenantId: string, device: Device, key: Uint8Array | undefined): Promise<unknown[] | { _type: 'encrypted'; data: string }> {
    const waiting = (await outbox.waiting(tenantId, device)).filter((entry) => hasOwnTracksForm(entry.command));
    if (waiting.length === 0) return [];
    const messages: Record<string, unknown>[] = [];
    if (waiting.some((entry) => entry.command.type === 'report_location')) messages.push(reportLocation());
    if (waiting.some((entry) => entry.command.type !== 'report_location')) messages.push(setWaypoints(await jobs.waypoints(tenantId, device)));
    for (const entry of waiting) await outbox.confirm(tenantId, device, entry.id);
    return key ? { _type: 'encrypted' as const, data: sealForOwnTracks(key, JSON.stringify(messages)) } : messages;
  }
};
