import { Type, type Static } from '@sinclair/typebox';
import { CRS_NAMES, Timestamp } from './common.js';
import { EVENT_TYPES, TicketEvent } from './ticket.js';
import { StringEnum } from './string-enum.js';
import { DEVICE_ALERT_TYPES, DeviceAlert } from '../telemetry/schemas.js';

const strict = { additionalProperties: false } as const;

/** What an endpoint may subscribe to: "ticket.<event type>", "device.<alert type>" or "*". */
export const WEBHOOK_EVENT_TYPES = [
  '*',
  ...EVENT_TYPES.map((type) => `ticket.${type}` as const),
  ...DEVICE_ALERT_TYPES.map((type) => `device.${type}` as const),
] as const;
export const WebhookEventType = StringEnum(WEBHOOK_EVENT_TYPES);

const WebhookCrs = StringEnum(CRS_NAMES, {
  description:
    "the coordinate system of the points in its deliveries (a report event's data.location, an alert's lat and lon): gcj02 for AMap/Tencent/WeChat maps, " +
    'bd09 for Baidu; wgs84 when absent',
});

export const CreateWebhookInput = Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 500, pattern: '^https?://', description: 'Receives a POST per event' }),
    events: Type.Optional(Type.Array(WebhookEventType, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'default ["*"]' })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
    crs: Type.Optional(WebhookCrs),
  },
  strict,
);
export type CreateWebhookInput = Static<typeof CreateWebhookInput>;

export const UpdateWebhookInput = Type.Partial(Type.Object({ ...CreateWebhookInput.properties, active: Type.Boolean() }), strict);
export type UpdateWebhookInput = Static<typeof UpdateWebhookInput>;

export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(WebhookEventType),
  description: Type.Optional(Type.String()),
  active: Type.Boolean(),
  partnerId: Type.Optional(Type.String({ description: "set when a partner registered it: it receives only events of that partner's residents' tickets" })),
  crs: Type.Optional(WebhookCrs),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Webhook = Static<typeof Webhook>;

export const CreatedWebhook = Type.Object({ ...Webhook.properties, secret: Type.String({ description: 'Signs every delivery; shown once' }) });
export type CreatedWebhook = Static<typeof CreatedWebhook>;

/** The body of every delivery. */
export const WebhookPayload = Type.Object({
  id: Type.String({ description: 'Delivery id: the same on every retry of this delivery' }),
  type: Type.String({ description: 'ticket.<event type> or device.<alert type>' }),
  createdAt: Timestamp,
  crs: Type.Optional(StringEnum(CRS_NAMES, { description: "the endpoint's crs, when it set one other than wgs84: the system of the points in data" })),
  data: Type.Union([
    Type.Object({ streamId: Type.String(), ticketNumber: Type.String(), event: TicketEvent }),
    Type.Object(
      { streamId: Type.String(), alert: DeviceAlert },
      { description: "device.<alert type>: an SOS, fall, low battery or vehicle alarm, or a dispatcher's confirmation of a device's alarms" },
    ),
  ]),
});
export type WebhookPayload = Static<typeof WebhookPayload>;

export const WebhookAttempt = Type.Object({
  at: Timestamp,
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status, or null when no response came' }),
  error: Type.Optional(Type.String()),
  durationMs: Type.Integer(),
});

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  webhookId: Type.String(),
  type: Type.String(),
  state: StringEnum(['pending', 'delivered', 'failed'] as const),
  createdAt: Timestamp,
  nextAttemptAt: Type.Optional(Timestamp),
  attempts: Type.Array(WebhookAttempt),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;
