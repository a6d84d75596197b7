import { Type, type Static } from '@sinclair/typebox';
import { Crs, Timestamp } from '../schemas/common.js';
import { StringEnum } from '../schemas/string-enum.js';
import { DeviceKind } from './schemas.js';

/**
 * Devices that register themselves, as ThingsBoard's device provisioning has it: firmware flashed
 * with a profile's provision key and secret asks for its own credential on first boot, over MQTT
 * (username `provision`, `/provision/request` -> `/provision/response`) or HTTP
 * (`POST /api/v1/provision`). By the profile's strategy, ThingsBoard's two: a new device is
 * registered as the profile says (kind, unit, coordinate system), or a device an admin registered
 * beforehand under that name is found and given a fresh secret. Each name is provisioned once in
 * a tenant.
 */

/** ThingsBoard's provisioning strategies: register a new device, or find one registered beforehand by its name. */
export const PROVISIONING_STRATEGIES = ['allow_create_new_devices', 'check_pre_provisioned_devices'] as const;
export type ProvisioningStrategy = (typeof PROVISIONING_STRATEGIES)[number];

/** ThingsBoard's provisioning topics and the MQTT username (or client id) of a provisioning connection. */
export const PROVISION_USERNAME = 'provision';
export const PROVISION_REQUEST_TOPIC = '/provision/request';
export const PROVISION_RESPONSE_TOPIC = '/provision/response';

/**
 * How many devices a profile may provision: the batch its firmware was flashed for. A secret that
 * leaks out of that firmware then registers no more than the batch's count, not any number.
 */
const MaxDevices = Type.Integer({
  minimum: 1,
  maximum: 1_000_000,
  description: 'the most devices it provisions (e.g. the size of the batch flashed with its key); further requests are refused (FAILURE)',
});

export const ProvisioningProfile = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: DeviceKind,
  unitId: Type.Optional(Type.String()),
  crs: Type.Optional(Crs),
  strategy: StringEnum(PROVISIONING_STRATEGIES),
  provisionDeviceKey: Type.String({ description: "ThingsBoard's provisionDeviceKey: flashed into the firmware with the secret" }),
  maxDevices: Type.Optional(Type.Integer({ description: 'the most devices it provisions; no limit when absent' })),
  provisionedDevices: Type.Integer({ description: 'how many devices it has provisioned (a repeated request for one counts once)' }),
  secretRotatedAt: Type.Optional(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ProvisioningProfile = Static<typeof ProvisioningProfile>;

export const CreateProvisioningProfileInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'what the profile is for, e.g. "Badges, batch 2026-11"' }),
    kind: DeviceKind,
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the unit the devices belong to' })),
    crs: Type.Optional(StringEnum(['wgs84', 'gcj02', 'bd09'] as const, { description: 'the system of the points the devices send; wgs84 when absent' })),
    strategy: Type.Optional(
      StringEnum(PROVISIONING_STRATEGIES, {
        description:
          'allow_create_new_devices (the default): a device is registered as the profile says; ' +
          'check_pre_provisioned_devices: only a device registered beforehand (POST /v1/devices) under the name it asks with, ' +
          "of the profile's kind (and unit, if it names one), is provisioned, with a fresh secret",
      }),
    ),
    maxDevices: Type.Optional(MaxDevices),
  },
  { additionalProperties: false },
);
export type CreateProvisioningProfileInput = Static<typeof CreateProvisioningProfileInput>;

export const UpdateProvisioningProfileInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    maxDevices: Type.Optional(Type.Union([MaxDevices, Type.Null()], { description: 'the new limit; null for none' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProvisioningProfileInput = Static<typeof UpdateProvisioningProfileInput>;

export const IssuedProvisioningProfile = Type.Object({
  profile: ProvisioningProfile,
  provisionDeviceSecret: Type.String({ description: "ThingsBoard's provisionDeviceSecret. Shown once; kept as a hash" }),
});
export type IssuedProvisioningProfile = Static<typeof IssuedProvisioningProfile>;

/** A device's provisioning request, as ThingsBoard's firmware sends it. */
export interface ProvisionRequest {
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  /** Absent: a name is made up, as ThingsBoard does. */
  deviceName?: string;
}

/** What the device is answered, in ThingsBoard's form (its JsonConverter's). */
export type ProvisionResponse =
  | { status: 'SUCCESS'; credentialsType: 'ACCESS_TOKEN'; credentialsValue: string }
  | { status: 'NOT_FOUND' | 'FAILURE'; errorMsg: string };

/** ThingsBoard's answer to a key or secret it does not know. */
export const PROVISION_NOT_FOUND: ProvisionResponse = { status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' };
export const provisionFailure = (errorMsg: string): ProvisionResponse => ({ status: 'FAILURE', errorMsg });

const MAX_NAME = 100;
const MAX_KEY = 256;

/**
 * Reads a provisioning request's body, or says why it cannot be one. The device may not choose its
 * own credential (ThingsBoard's `credentialsType` with `token`, `clientId`/`username`/`password`
 * or `hash`): CivicLoop issues every device secret itself, so such a request is refused.
 */
export function parseProvisionRequest(body: Buffer | string): ProvisionRequest | { refused: string } {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return { refused: 'The provisioning request is not JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { refused: 'The provisioning request is not a JSON object.' };
  const fields = value as Record<string, unknown>;
  const { provisionDeviceKey: key, provisionDeviceSecret: secret, deviceName: name } = fields;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) return { refused: 'provisionDeviceKey is missing or not a string.' };
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_KEY) return { refused: 'provisionDeviceSecret is missing or not a string.' };
  if (name !== undefined && (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_NAME))
    return { refused: `deviceName must be 1 to ${MAX_NAME} characters.` };
  const chosen = ['credentialsType', 'token', 'clientId', 'username', 'password', 'hash'].filter((field) => fields[field] !== undefined);
  if (chosen.length > 0 && !(chosen.length === 1 && fields.credentialsType === 'ACCESS_TOKEN'))
    return { refused: `Device-chosen credentials (${chosen.join(', ')}) are not taken: the gateway issues the access token.` };
  return { provisionDeviceKey: key, provisionDeviceSecret: secret, ...(name === undefined ? {} : { deviceName: (name as string).trim() }) };
}
