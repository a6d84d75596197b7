import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError } from '@civicloop/model';
import { STAFF, type Services } from '../../core/services.js';
import type { FleetReads, Tally } from '../../store/fleet-reads.js';
import { DeviceOutbox, type OutboxEntry } from '../../store/device-outbox.js';
import { CrsQuery } from '../crs-output.js';
import { pointIn } from '../../geometry/crs-output.js';
import { errorResponses, security } from '../shared-schemas.js';
import { GeoJson, fleetTags as tags, positionFeature } from './position-feature.js';

const read = { kind: 'roles', roles: STAFF } as const;
const TallySchema = Type.Object({ count: Type.Integer(), lastReason: Type.String(), lastAt: Type.Union([Type.String(), Type.Null()]) });
const WaitingCommand = Type.Object({
  commandId: Type.String({ description: 'the id the device confirms it by' }),
  type: Type.Union([
    Type.Literal('assignment'),
    Type.Literal('withdrawal'),
    Type.Literal('rework'),
    Type.Literal('report_location'),
    Type.Literal('alarm_confirmation'),
    Type.Literal('take_photo'),
  ]),
  ticketId: Type.Optional(Type.String({ description: 'an assignment, a withdrawal or a rework: the ticket it is about' })),
  number: Type.Optional(Type.String({ description: "an assignment, a withdrawal or a rework: the ticket's number" })),
  alarms: Type.Optional(Type.Array(Type.String(), { description: 'an alarm confirmation: the alarms confirmed' })),
  givenAt: Type.Union([Type.String(), Type.Null()], { description: 'when it was given (null: given before the gateway recorded this)' }),
});

const DriverSchema = Type.Object({
  staffId: Type.Union([Type.String(), Type.Null()], { description: "the staff member with the card's qualification certificate number (null: nobody has it)" }),
  name: Type.String({ description: 'as the card gives it' }),
  qualificationCode: Type.String({ description: 'the qualification certificate number (从业资格证号) read off the card' }),
  since: Type.String({ description: 'when the card went in (the terminal clock)' }),
});

const DeviceState = Type.Object({
  deviceId: Type.String(),
  online: Type.Boolean(),
  lastSeen: Type.Union([Type.String(), Type.Null()]),
  onDutySince: Type.Union([Type.String(), Type.Null()]),
  position: Type.Union([GeoJson, Type.Null()]),
  refused: Type.Union([TallySchema, Type.Null()], {
    description: 'messages the gateway acknowledged and refused (bad values, topics the device may not use), with the latest reason',
  }),
  ignored: Type.Union([TallySchema, Type.Null()], {
    description: 'well-formed messages acknowledged and set aside as unused (OwnTracks waypoints, readings without a position...)',
  }),
  driver: Type.Union([DriverSchema, Type.Null()], {
    description: "a JT/T 808 vehicle's driver, by the qualification IC card in its terminal (null: no card in, or not a terminal that reports one)",
  }),
  waiting: Type.Array(WaitingCommand, {
    description: 'commands given to the device that it has not confirmed yet, oldest first (through an external broker: not yet taken by the broker)',
  }),
});

/** One device's last state and its track over a time range. */
export const deviceHistoryRoutes: FastifyPluginAsyncTypebox<{ services: Services; fleet: FleetReads }> = async (app, { services, fleet }) => {
  const outbox = new DeviceOutbox(services.redis);
  app.get(
    '/v1/devices/:id/state',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "A device's last state: online, last message, last fix, battery, and the commands it has not confirmed",
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: CrsQuery,
        response: {
          200: DeviceState,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      const [state, waiting] = await Promise.all([fleet.state(tenantId, device.id), outbox.waiting(tenantId, device)]);
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      const tally = (t: Tally | null) => (t ? { ...t, lastAt: iso(t.lastAt) } : null);
      return {
        deviceId: device.id,
        online: state.online,
        lastSeen: iso(state.lastSeen),
        onDutySince: iso(state.onDutySince),
        position: state.position ? positionFeature(state.position, device, state.online, request.query.crs) : null,
        refused: tally(state.refused),
        ignored: tally(state.ignored),
        driver: state.driver ? { ...state.driver, since: new Date(state.driver.since).toISOString() } : null,
        waiting: waiting.map(waitingCommand),
      };
    },
  );

  app.get(
    '/v1/devices/:id/track',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "A device's track for a time range as a GeoJSON LineString (times per vertex in properties)",
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), ...CrsQuery.properties }),
        response: { 200: GeoJson, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      if (to < from) throw new CivicLoopError('CL_ERR_VALIDATION', '`to` is before `from`; swap them.');
      if (to - from > 7 * 86_400_000) throw new CivicLoopError('CL_ERR_VALIDATION', 'A track covers at most 7 days; ask for a shorter range.');
      const fixes = await fleet.track(tenantId, device.id, from, to);
      return {
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: fixes.map((r) => (request.query.crs ? pointIn(r, request.query.crs) : r)).map((p) => [p.lon, p.lat]) },
        properties: {
          deviceId: device.id,
          name: device.name,
          times: fixes.map((r) => new Date(r.fixTime).toISOString()),
          speedsKmh: fixes.map((r) => r.speedKmh ?? null),
        },
      };
    },
  );
};

/** An outbox entry as the device's state shows it: what it is, not all it says. */
function waitingCommand({ id, command, givenAt }: OutboxEntry) {
  return {
    commandId: id,
    type: command.type,
    ...('ticketId' in command ? { ticketId: command.ticketId, number: command.number } : {}),
    ...(command.type === 'alarm_confirmation' ? { alarms: command.alarms } : {}),
    givenAt: givenAt === undefined ? null : new Date(givenAt).toISOString(),
  };
}
