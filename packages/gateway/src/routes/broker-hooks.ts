import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { nativeTopic } from '@civicloop/model';
import { brokerAccountName, isOwnTracksPublishTopic, ownTracksCommandTopic } from '../telemetry/external/account-name.js';
import { errorResponses } from './shared-schemas.js';

const tags = ['broker hooks'];
/** The client attributes the authentication answer sets, for the authorization request to send back. */
const TENANT_ATTRIBUTE = 'civicloop_tenant';
const DEVICE_ATTRIBUTE = 'civicloop_device';

/**
 * EMQX's HTTP authentication and authorization (EMQX 5, "HTTP Server" authenticator and
 * authorizer), so that devices connecting to an EMQX cluster log in with their own CivicLoop
 * credentials and keep to their own topics, as on the embedded broker:
 *
 * - authentication: a device's secret as password with its id or its account name
 *   (`<tenant>.<device>`, which an OwnTracks phone needs) as username, or (ThingsBoard-style) as
 *   username alone; the answer sets client attributes naming its tenant and device (EMQX 5.7+),
 *   which the authorization request template sends back;
 * - authorization: publishing to its own native position, event and status topics and its
 *   OwnTracks topics (`owntracks/<tenant>.<device>/...`), and subscribing to its own native and
 *   OwnTracks command topics only. Those are what the gateways consume from an external broker
 *   (external/subscriber.ts); an OwnTracks topic under another user name or a ThingsBoard
 *   publish would be acknowledged by the broker and then reach no gateway, so it is denied, and
 *   the device hears so (MQTT 5: PUBACK 135) instead of losing its data unseen.
 *
 * Answers are 200 with `{ "result": "allow" | "deny" }`, as EMQX reads them. The routes need
 * `Authorization: Bearer <BROKER_HOOK_TOKEN>` (a header set in EMQX's settings).
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const brokerHookRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const { devices } = services;
  const counters = () => services.telemetry?.counters;

  app.post(
    '/v1/broker/emqx/authenticate',
    {
      // A decision on the registry as it is: asking again writes nothing (counters are in memory).
      config: { access: { kind: 'broker' }, idempotency: 'content' },
      schema: {
        tags,
        summary: 'EMQX HTTP authentication: may this device connect? (Bearer BROKER_HOOK_TOKEN)',
        security: [{ bearer: [] }],
        body: Type.Object({
          username: Type.Optional(Type.String({ maxLength: 512 })),
          password: Type.Optional(Type.String({ maxLength: 512 })),
          clientid: Type.Optional(Type.String({ maxLength: 512 })),
        }),
        response: {
          200: Type.Object({
            result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
            is_superuser: Type.Boolean(),
            client_attrs: Type.Optional(Type.Record(Type.String(), Type.String())),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { username = '', password = '' } = request.body;
      const deny = { result: 'deny' as const, is_superuser: false };
      const result = await devices.login(password || username);
      const tally = counters();
      if ('refused' in result) {
        if (tally && result.tenantId) tally.of(result.tenantId).refusedConnects++;
        else if (tally) tally.unattributedRefusedConnects++;
        return deny;
      }
      // Username + password clients must name the device the secret belongs to.
      if (password && username !== result.device.id && username !== brokerAccountName(result.login.tenantId, result.device.id)) {
        if (tally) tally.of(result.login.tenantId).refusedConnects++;
        return deny;
      }
      return {
        result: 'allow' as const,
        is_superuser: false,
        client_attrs: { [TENANT_ATTRIBUTE]: result.login.tenantId, [DEVICE_ATTRIBUTE]: result.device.id },
      };
    },
  );

  app.post(
    '/v1/broker/emqx/authorize',
    {
      // A decision on the registry as it is: asking again writes nothing (counters are in memory).
      config: { access: { kind: 'broker' }, idempotency: 'content' },
      schema: {
        tags,
        summary: 'EMQX HTTP authorization: may this device publish or subscribe to this topic? (Bearer BROKER_HOOK_TOKEN)',
        security: [{ bearer: [] }],
        body: Type.Object({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: EMQX's placeholder, named as EMQX spells it
          tenant: Type.String({ maxLength: 128, description: '${client_attrs.civicloop_tenant}' }),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: EMQX's placeholder, named as EMQX spells it
          device: Type.String({ maxLength: 128, description: '${client_attrs.civicloop_device}' }),
          username: Type.Optional(Type.String({ maxLength: 512, description: 'sent by the documented template; the decision does not use it' })),
          topic: Type.String({ maxLength: 1024 }),
          action: Type.String({ maxLength: 32, description: 'publish or subscribe' }),
        }),
        response: { 200: Type.Object({ result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenant, device: deviceId, topic, action } = request.body;
      const device = tenant && deviceId ? await devices.get(tenant, deviceId) : undefined;
      if (!device || device.disabled) return { result: 'deny' as const };
      const tally = counters()?.of(tenant);
      const own = (channel: 'position' | 'event' | 'status' | 'cmd') => nativeTopic(tenant, device.kind, device.id, channel);
      if (action === 'subscribe') {
        if (topic === own('cmd') || topic === ownTracksCommandTopic(tenant, device.id)) return { result: 'allow' as const };
        if (tally) tally.deniedSubscriptions++;
        return { result: 'deny' as const };
      }
      if (action === 'publish') {
        // A command topic carries commands to the device; the device does not publish there.
        if (topic === own('position') || topic === own('event') || topic === own('status') || isOwnTracksPublishTopic(tenant, device.id, topic))
          return { result: 'allow' as const };
        if (tally) tally.deniedPublishes++;
        return { result: 'deny' as const };
      }
      return { result: 'deny' as const };
    },
  );
};
