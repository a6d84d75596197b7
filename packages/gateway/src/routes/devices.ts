import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CONFIRMABLE_ALARMS,
  CivicLoopError,
  CreateDeviceInput,
  Device,
  LocatedPosition,
  RegisteredDevice,
  StringEnum,
  UpdateDeviceInput,
} from '@civicloop/model';
import { ADMINS, MANAGERS_AND_SERVERS, STAFF } from '../core/services.js';
import { confirmAlarms } from '../telemetry/alarm-confirmation.js';
import { actorOf } from '../tickets/actors.js';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { CrsQuery } from './crs-output.js';
import { pointIn } from '../geometry/crs-output.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const read = { kind: 'roles', roles: STAFF } as const;
const write = { kind: 'roles', roles: ADMINS } as const;
/** The alarms a dispatcher confirms for a device (POST /v1/devices/{id}/alarms/confirm), and what the answer says. */
const AlarmConfirmationInput = Type.Object(
  { alarms: Type.Array(StringEnum(CONFIRMABLE_ALARMS), { minItems: 1, uniqueItems: true, description: 'the alarms to confirm, each once' }) },
  { additionalProperties: false },
);
const AlarmConfirmationSent = Type.Object({
  deviceId: Type.String(),
  alarms: Type.Array(Type.String(), { description: 'the alarms confirmed' }),
  commandId: Type.Union([Type.String(), Type.Null()], {
    description:
      'the id the device confirms the command by; GET /v1/devices/{id}/state lists it until then. ' +
      'null: the device has no way to take it (its reports come by OsmAnd or OwnTracks); the confirmation is recorded all the same',
  }),
});

/** The device registry: admins register vehicles and badges and manage their MQTT credentials. */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const { devices } = services;
  const tags = ['devices'];

  app.post(
    '/v1/devices',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Register a vehicle or badge; its MQTT password is returned once',
        security,
        body: CreateDeviceInput,
        response: { 201: RegisteredDevice, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      if (request.body.unitId && !(await services.directory.getUnit(tenantId, request.body.unitId))) {
        throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${request.body.unitId} does not exist; create it first with POST /v1/units.`);
      }
      return reply.code(201).send(await devices.register(tenantId, request.body, services.now()));
    },
  );

  app.get(
    '/v1/devices',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "List devices, or (staffId) the devices a person's assignments go to, or (provisionedBy) those a provisioning profile provisioned",
        security,
        querystring: Type.Object({
          provisionedBy: Type.Optional(
            Type.String({ minLength: 1, maxLength: 64, description: 'only the devices this provisioning profile registered or gave their secret to' }),
          ),
          staffId: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description:
                'only the devices a dispatch to this person sends the assignment to (unless disabled): ' +
                'the badge they wear and the vehicle they drive, the latest linked of each',
            }),
          ),
        }),
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const { staffId, provisionedBy } = request.query;
      // The same lookup a dispatch makes, so that what is listed is where the assignment went.
      const items = staffId === undefined ? await devices.list(tenantId) : await devices.devicesOf(tenantId, staffId);
      return { items: provisionedBy === undefined ? items : items.filter((device) => device.provisionedBy === provisionedBy) };
    },
  );

  app.get(
    '/v1/devices/:id',
    { config: { access: read }, schema: { tags, summary: 'Get a device', security, params: IdParams, response: { 200: Device, ...errorResponses } } },
    async (request) => devices.mustGet(request.principal.tenantId, request.params.id),
  );

  app.patch(
    '/v1/devices/:id',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Update a device; disabling it or changing its ownTracksKey also closes its connection',
        security,
        params: IdParams,
        body: UpdateDeviceInput,
        response: { 200: Device, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      if (request.body.unitId && !(await services.directory.getUnit(tenantId, request.body.unitId))) {
        throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${request.body.unitId} does not exist; create it first with POST /v1/units.`);
      }
      const device = await devices.update(tenantId, request.params.id, request.body, services.now());
      // A connection holds the key it logged in with: a new one is taken up when the device reconnects.
      if (device.disabled || request.body.ownTracksKey !== undefined) services.telemetry?.disconnect(tenantId, device.id);
      // Otherwise it goes on with the record as it now is (its wearer or driver for arrival and answers, its unit, its system).
      else await services.telemetry?.deviceChanged(tenantId, device);
      return device;
    },
  );

  app.post(
    '/v1/devices/:id/credentials',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Issue a new MQTT password and revoke the old one (refused from the next CONNECT)',
        security,
        params: IdParams,
        response: { 200: RegisteredDevice, ...errorResponses },
      },
    },
    async (request) => devices.rotate(request.principal.tenantId, request.params.id, services.now()),
  );

  app.post(
    '/v1/devices/:id/locate',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags,
        summary:
          'Ask a device where it is now and wait for its answer (a JT/T 808 terminal: 0x8201; an MQTT device: a report_location command, ' +
          'reportLocation to OwnTracks); the answer is stored like any position',
        security,
        params: IdParams,
        querystring: CrsQuery,
        response: {
          200: LocatedPosition,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await devices.mustGet(tenantId, request.params.id);
      if (!services.telemetry) throw new CivicLoopError('CL_ERR_DEVICE_UNREACHABLE', 'Telemetry is not running on this gateway.');
      const record = await services.telemetry.locate(tenantId, device);
      const crs = request.query.crs ?? 'wgs84';
      return {
        ...pointIn(record, crs),
        crs,
        fixTime: new Date(record.fixTime).toISOString(),
        valid: record.valid,
        ...(record.speedKmh !== undefined ? { speedKmh: record.speedKmh } : {}),
        ...(record.course !== undefined ? { course: record.course } : {}),
        ...(record.altitude !== undefined ? { altitude: record.altitude } : {}),
        alarms: record.alarms,
      };
    },
  );

  app.post(
    '/v1/devices/:id/alarms/confirm',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags,
        summary:
          "Confirm a device's alarms (人工确认报警): a JT/T 808 terminal is sent 0x8203 and clears them, so that its next SOS raises an alert again; " +
          'an MQTT device an alarm_confirmation command. Sent like any command: now, or when the device is back',
        security,
        params: IdParams,
        body: AlarmConfirmationInput,
        response: { 202: AlarmConfirmationSent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const device = await devices.mustGet(request.principal.tenantId, request.params.id);
      const { alarms } = request.body;
      const commandId = await confirmAlarms(services, request.principal.tenantId, actorOf(request.principal), device, alarms);
      return reply.code(202).send({ deviceId: device.id, alarms, commandId: commandId ?? null });
    },
  );

  app.get(
    '/v1/telemetry/counters',
    {
      config: { access: write },
      schema: {
        tags,
        summary: "What this gateway's broker accepted and refused for this tenant's devices since it started, by reason",
        security,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses },
      },
    },
    async (request) => services.telemetry?.counters.of(request.principal.tenantId).snapshot() ?? {},
  );

  app.get(
    '/v1/telemetry/unattributed',
    {
      config: { access: { kind: 'operator' } },
      schema: {
        tags,
        summary:
          "What this gateway refused before any tenant was known (unknown credentials, strangers' bytes, unauthenticated " +
          'terminals, external-broker messages naming no known device), since it started (operator token)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            mqtt: Type.Object({ refusedConnects: Type.Integer(), closedByGuard: Type.Record(Type.String(), Type.Integer()) }),
            jt808: Type.Record(Type.String(), Type.Integer()),
            externalBroker: Type.Object(
              { notNative: Type.Integer(), unknownDevice: Type.Integer() },
              {
                description:
                  'Messages taken from the external broker (MQTT_BROKER_URL) that named no known device: its rules let through what they should refuse',
              },
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const counters = services.telemetry?.counters;
      return {
        mqtt: { refusedConnects: counters?.unattributedRefusedConnects ?? 0, closedByGuard: { ...(counters?.closedByGuard ?? {}) } },
        jt808: { ...(counters?.jt808Unattributed ?? {}) },
        externalBroker: { notNative: counters?.externalUnattributed.notNative ?? 0, unknownDevice: counters?.externalUnattributed.unknownDevice ?? 0 },
      };
    },
  );
};
