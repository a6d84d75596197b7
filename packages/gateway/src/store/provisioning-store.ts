import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import {
  type Device,
  PROVISION_NOT_FOUND,
  provisionFailure,
  type CreateProvisioningProfileInput,
  type IssuedProvisioningProfile,
  type ProvisioningProfile,
  type ProvisionRequest,
  type ProvisionResponse,
} from '@civicloop/model';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { Sealer } from '../auth/secrets.js';
import type { DeviceStore } from './device-store.js';
import { RecordHash } from './record-hash.js';

type Client = Redis | Cluster;

/** What a provision key names: its tenant and profile, and the hash of the secret that goes with it. */
interface ProvisionKeyEntry {
  tenantId: string;
  profileId: string;
  secretHash: string;
}

/** How a provisioning request ended: the answer for the device, and the device registered, if one was. */
export interface ProvisionOutcome {
  response: ProvisionResponse;
  /** Set when the key was known (the request then counts against the tenant, not only the address). */
  tenantId?: string;
  deviceId?: string;
}

const success = (secret: string): ProvisionResponse => ({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: secret });
const sha256 = (text: string) => createHash('sha256').update(text).digest();
/** A claim on a name while its device is being registered: a second request for the name meanwhile is refused. */
const CLAIMING = '';
/**
 * How long the same request again gets the same answer: firmware on a cellular link that lost the
 * answer asks again, and would otherwise be refused for good (ThingsBoard refuses it), its name
 * provisioned and its token never received.
 */
export const PROVISION_REPEAT_MS = 10 * 60_000;

/** What is kept, sealed, of a provisioning's answer for PROVISION_REPEAT_MS. */
interface KeptAnswer {
  profileId: string;
  deviceId: string;
  secret: string;
}

/**
 * Provisioning profiles and the devices they provision (ThingsBoard's device provisioning). A
 * profile has a provision key, looked up across tenants as a device secret is, and a secret kept
 * as a hash and shown once. A device that asks with both is registered as the profile says, or
 * (check_pre_provisioned_devices) found among those registered beforehand, and given its own
 * device secret; each device name is provisioned once in a tenant, as ThingsBoard refuses a device
 * it has provisioned, but the same request again within PROVISION_REPEAT_MS gets the same answer.
 */
export class ProvisioningStore {
  private readonly records: RecordHash<ProvisioningProfile>;

  constructor(
    private readonly redis: Client,
    private readonly devices: DeviceStore,
    /** Seals the answers kept for a repeated request, with the master key. */
    private readonly sealer: Sealer,
  ) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).provisioningProfiles, 'Provisioning profile');
  }

  async create(tenantId: string, input: CreateProvisioningProfileInput, now = new Date()): Promise<IssuedProvisioningProfile> {
    const at = now.toISOString();
    const profile: ProvisioningProfile = {
      id: `pp_${randomBytes(6).toString('hex')}`,
      name: input.name,
      kind: input.kind,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.crs && input.crs !== 'wgs84' ? { crs: input.crs } : {}),
      strategy: input.strategy ?? 'allow_create_new_devices',
      // ThingsBoard's keys and secrets are 20 characters of letters and digits; firmware may keep no more.
      provisionDeviceKey: randomBytes(15).toString('base64url').replace(/[-_]/g, 'x'),
      createdAt: at,
      updatedAt: at,
    };
    const secret = randomBytes(15).toString('base64url').replace(/[-_]/g, 'x');
    const entry: ProvisionKeyEntry = { tenantId, profileId: profile.id, secretHash: sha256(secret).toString('hex') };
    // The key first: a profile is never listed with a key that does not work.
    await this.redis.set(globalKeys.provisionKey(profile.provisionDeviceKey), JSON.stringify(entry));
    await this.records.insert(tenantId, profile);
    return { profile, provisionDeviceSecret: secret };
  }

  list(tenantId: string): Promise<ProvisioningProfile[]> {
    return this.records.list(tenantId);
  }

  /** Deletes a profile: its key and secret provision nothing more. The devices it provisioned stay. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    const profile = await this.records.get(tenantId, id);
    if (!profile) return false;
    await this.redis.del(globalKeys.provisionKey(profile.provisionDeviceKey));
    await this.redis.hdel(tenantKeys(tenantId).provisioningProfiles, id);
    return true;
  }

  /**
   * Registers the device a provisioning request names, if its key and secret are a profile's and
   * its name has not been provisioned in the tenant. A refusal writes nothing. Only a failure to
   * reach Redis throws; the name's claim is then given back.
   */
  async provision(request: ProvisionRequest, now = new Date()): Promise<ProvisionOutcome> {
    const raw = await this.redis.get(globalKeys.provisionKey(request.provisionDeviceKey));
    if (!raw) return { response: PROVISION_NOT_FOUND };
    const entry = JSON.parse(raw) as ProvisionKeyEntry;
    const given = sha256(request.provisionDeviceSecret);
    if (!timingSafeEqual(given, Buffer.from(entry.secretHash, 'hex'))) return { response: PROVISION_NOT_FOUND, tenantId: entry.tenantId };
    const { tenantId } = entry;
    const profile = await this.records.get(tenantId, entry.profileId);
    if (!profile) return { response: PROVISION_NOT_FOUND, tenantId };
    const preregistered = profile.strategy === 'check_pre_provisioned_devices';
    if (preregistered && !request.deviceName)
      return { response: provisionFailure('deviceName is needed: this profile provisions only devices registered beforehand, by name.'), tenantId };
    const name = request.deviceName ?? `${profile.kind}-${randomBytes(4).toString('hex')}`;
    const found = preregistered ? await this.registeredAs(tenantId, profile, name) : undefined;
    if (typeof found === 'string') return { response: provisionFailure(found), tenantId };
    const keys = tenantKeys(tenantId);
    const names = keys.provisionedNames;
    if ((await this.redis.hsetnx(names, name, CLAIMING)) === 0) {
      const repeated = await this.repeatedAnswer(tenantId, profile.id, name);
      if (repeated) return { response: success(repeated.secret), tenantId };
      return { response: provisionFailure(`The device ${name} is present and could not be provisioned once more.`), tenantId };
    }
    try {
      // A device registered beforehand is given a fresh secret: its own was never flashed into it.
      const { device, credential } = found
        ? await this.devices.rotate(tenantId, found.id, now)
        : await this.devices.register(
            tenantId,
            { kind: profile.kind, name, ...(profile.unitId ? { unitId: profile.unitId } : {}), ...(profile.crs ? { crs: profile.crs } : {}) },
            now,
          );
      const kept: KeptAnswer = { profileId: profile.id, deviceId: device.id, secret: credential.password };
      await this.redis.set(keys.provisionedAnswer(name), this.sealer.seal(Buffer.from(JSON.stringify(kept))), 'PX', PROVISION_REPEAT_MS);
      await this.redis.hset(names, name, device.id);
      return { response: success(credential.password), tenantId, deviceId: device.id };
    } catch (error) {
      await this.redis.hdel(names, name).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The answer `name` was provisioned with by this profile within PROVISION_REPEAT_MS, if its
   * secret is still the device's (not rotated since, the device not disabled).
   */
  private async repeatedAnswer(tenantId: string, profileId: string, name: string): Promise<KeptAnswer | undefined> {
    const sealed = await this.redis.get(tenantKeys(tenantId).provisionedAnswer(name));
    if (!sealed) return undefined;
    let kept: KeptAnswer;
    try {
      kept = JSON.parse(this.sealer.open(sealed).toString()) as KeptAnswer;
    } catch {
      // Sealed under another master key (CIVICLOOP_MASTER_KEY was changed): as if it were not kept.
      return undefined;
    }
    if (kept.profileId !== profileId) return undefined;
    const login = await this.devices.login(kept.secret);
    return 'login' in login && login.login.deviceId === kept.deviceId ? kept : undefined;
  }

  /**
   * The one device registered beforehand that a check_pre_provisioned_devices profile provisions
   * under `name`: of its kind (and unit, if it names one), enabled, reached by MQTT or HTTP (a
   * JT/T 808 terminal has its own registration). Otherwise why not, as ThingsBoard's FAILURE says.
   * The tenant's devices are read whole: provisioning is rare, and comes after the secret was checked.
   */
  private async registeredAs(tenantId: string, profile: ProvisioningProfile, name: string): Promise<Device | string> {
    const matches = (await this.devices.list(tenantId)).filter(
      (device) =>
        device.name === name &&
        device.kind === profile.kind &&
        device.protocol !== 'jt808' &&
        !device.disabled &&
        (!profile.unitId || device.unitId === profile.unitId),
    );
    if (matches.length === 1) return matches[0]!;
    const wanted = `a ${profile.kind}${profile.unitId ? ` of unit ${profile.unitId}` : ''}`;
    return matches.length === 0
      ? `Failed to find pre provisioned device ${name}: register it first (POST /v1/devices) as ${wanted}.`
      : `${matches.length} devices are registered as ${name}: give each its own name.`;
  }
}
