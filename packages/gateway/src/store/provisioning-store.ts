import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import {
  CivicLoopError,
  type Device,
  PROVISION_NOT_FOUND,
  provisionFailure,
  type CreateProvisioningProfileInput,
  type IssuedProvisioningProfile,
  type ProvisioningProfile,
  type ProvisionRequest,
  type ProvisionResponse,
  type UpdateProvisioningProfileInput,
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
  /** Set when the profile had provisioned its maxDevices and refused the device: worth a warning, a leaked secret looks like this. */
  limitReached?: { profileId: string; maxDevices: number };
}

/** A profile as kept: its count of provisioned devices is kept apart, where a script can hold it below the limit. */
type StoredProfile = Omit<ProvisioningProfile, 'provisionedDevices'>;

/** ThingsBoard's keys and secrets are 20 characters of letters and digits; firmware may keep no more. */
const newKeyOrSecret = () => randomBytes(15).toString('base64url').replace(/[-_]/g, 'x');
const keyEntry = (tenantId: string, profileId: string, secret: string) =>
  JSON.stringify({ tenantId, profileId, secretHash: sha256(secret).toString('hex') } satisfies ProvisionKeyEntry);
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
  private readonly records: RecordHash<StoredProfile>;

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
    const profile: StoredProfile = {
      id: `pp_${randomBytes(6).toString('hex')}`,
      name: input.name,
      kind: input.kind,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.crs && input.crs !== 'wgs84' ? { crs: input.crs } : {}),
      strategy: input.strategy ?? 'allow_create_new_devices',
      provisionDeviceKey: newKeyOrSecret(),
      ...(input.maxDevices ? { maxDevices: input.maxDevices } : {}),
      createdAt: at,
      updatedAt: at,
    };
    const secret = newKeyOrSecret();
    // The key first: a profile is never listed with a key that does not work.
    await this.redis.set(globalKeys.provisionKey(profile.provisionDeviceKey), keyEntry(tenantId, profile.id, secret));
    await this.records.insert(tenantId, profile);
    return { profile: { ...profile, provisionedDevices: 0 }, provisionDeviceSecret: secret };
  }

  async list(tenantId: string): Promise<ProvisioningProfile[]> {
    const [profiles, counts] = await Promise.all([this.records.list(tenantId), this.redis.hgetall(tenantKeys(tenantId).provisionedCounts)]);
    return profiles.map((profile) => ({ ...profile, provisionedDevices: Number(counts[profile.id] ?? 0) }));
  }

  async get(tenantId: string, id: string): Promise<ProvisioningProfile | undefined> {
    const [profile, count] = await Promise.all([this.records.get(tenantId, id), this.redis.hget(tenantKeys(tenantId).provisionedCounts, id)]);
    return profile && { ...profile, provisionedDevices: Number(count ?? 0) };
  }

  /** Renames a profile or changes its limit (null: none). A limit below what it has provisioned refuses every further device. */
  async update(tenantId: string, id: string, input: UpdateProvisioningProfileInput, now = new Date()): Promise<ProvisioningProfile> {
    const { maxDevices, ...rest } = input;
    const patch: Partial<StoredProfile> = { ...rest, ...(maxDevices === undefined ? {} : { maxDevices: maxDevices ?? undefined }) };
    await this.records.patch(tenantId, id, patch, now);
    return (await this.get(tenantId, id))!;
  }

  /**
   * A new secret for a profile's key, shown once: the old one provisions nothing more from now on
   * (a secret that leaked), while the devices it provisioned keep their own tokens. Firmware still
   * to be flashed takes the new one.
   */
  async rotateSecret(tenantId: string, id: string, now = new Date()): Promise<IssuedProvisioningProfile> {
    const profile = await this.records.get(tenantId, id);
    if (!profile) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No provisioning profile ${id} in this tenant.`);
    const secret = newKeyOrSecret();
    // The key's entry first: from this write on, the old secret is refused.
    await this.redis.set(globalKeys.provisionKey(profile.provisionDeviceKey), keyEntry(tenantId, id, secret));
    await this.records.patch(tenantId, id, { secretRotatedAt: now.toISOString() }, now);
    return { profile: (await this.get(tenantId, id))!, provisionDeviceSecret: secret };
  }

  /** Deletes a profile: its key and secret provision nothing more. The devices it provisioned stay. */
  async remove(tenantId: string, id: string): Promise<boolean> {
    const profile = await this.records.get(tenantId, id);
    if (!profile) return false;
    await this.redis.del(globalKeys.provisionKey(profile.provisionDeviceKey));
    await this.redis.hdel(tenantKeys(tenantId).provisioningProfiles, id);
    await this.redis.hdel(tenantKeys(tenantId).provisionedCounts, id);
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
    return this.registerClaimed(tenantId, profile, name, found, now);
  }

  /**
   * Registers (or, found beforehand, gives a fresh secret to) the device whose name this request
   * has just claimed, within the profile's limit. A refusal or a failure gives the claim back, and
   * a failure the place below the limit too.
   */
  private async registerClaimed(tenantId: string, profile: StoredProfile, name: string, found: Device | undefined, now: Date): Promise<ProvisionOutcome> {
    const keys = tenantKeys(tenantId);
    let placeTaken = false;
    try {
      // A place below the profile's limit, taken before anything is registered: racing requests
      // for the last places cannot together pass it.
      placeTaken = (await this.redis.civicloopCountBelow(1, keys.provisionedCounts, profile.id, profile.maxDevices ?? '')) >= 0;
      if (!placeTaken) {
        await this.redis.hdel(keys.provisionedNames, name);
        const maxDevices = profile.maxDevices!;
        const response = provisionFailure(`Provisioning profile ${profile.name} has provisioned its limit of ${maxDevices} devices.`);
        return { response, tenantId, limitReached: { profileId: profile.id, maxDevices } };
      }
      // A device registered beforehand is given a fresh secret: its own was never flashed into it.
      const origin = { provisionedBy: profile.id };
      const { device, credential } = found
        ? await this.devices.rotate(tenantId, found.id, now, origin)
        : await this.devices.register(
            tenantId,
            { kind: profile.kind, name, ...(profile.unitId ? { unitId: profile.unitId } : {}), ...(profile.crs ? { crs: profile.crs } : {}) },
            now,
            origin,
          );
      const kept: KeptAnswer = { profileId: profile.id, deviceId: device.id, secret: credential.password };
      await this.redis.set(keys.provisionedAnswer(name), this.sealer.seal(Buffer.from(JSON.stringify(kept))), 'PX', PROVISION_REPEAT_MS);
      await this.redis.hset(keys.provisionedNames, name, device.id);
      return { response: success(credential.password), tenantId, deviceId: device.id };
    } catch (error) {
      if (placeTaken) await this.redis.hincrby(keys.provisionedCounts, profile.id, -1).catch(() => undefined);
      await this.redis.hdel(keys.provisionedNames, name).catch(() => undefined);
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
  private async registeredAs(tenantId: string, profile: StoredProfile, name: string): Promise<Device | string> {
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
