import { createHash, randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type CreateDeviceInput, type Device, type RegisteredDevice, type UpdateDeviceInput } from '@civicloop/model';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import { RecordHash } from '../store/record-hash.js';

type Client = Redis | Cluster;

export const DEVICE_SECRET_PREFIX = 'cl_dk_';

export interface DeviceLogin {
  tenantId: string;
  deviceId: string;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Vehicles and badges, and their MQTT credentials: a random secret shown once, stored as a
 * hash, looked up afresh at every CONNECT so that disabling or rotating bites immediately.
 */
export class DeviceStore {
  private readonly records: RecordHash<Device>;

  constructor(private readonly redis: Client) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).devices, 'Device');
  }

  async register(tenantId: string, input: CreateDeviceInput, now = new Date()): Promise<RegisteredDevice> {
    const at = now.toISOString();
    const device = await this.records.insert(tenantId, {
      id: input.id ?? `${input.kind === 'badge' ? 'b' : 'v'}_${randomBytes(5).toString('hex')}`,
      kind: input.kind,
      name: input.name,
      skills: input.skills ?? [],
      disabled: false,
      credentialIssuedAt: at,
      createdAt: at,
      updatedAt: at,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.staffId ? { staffId: input.staffId } : {}),
      ...(input.plate ? { plate: input.plate } : {}),
    });
    if (device.kind === 'badge' && device.staffId) await this.redis.hset(tenantKeys(tenantId).badgeOf, device.staffId, device.id);
    const password = await this.issueSecret(tenantId, device.id);
    return { device, credential: { username: device.id, password } };
  }

  /** The badge a staff member wears, if any. */
  async badgeOf(tenantId: string, staffId: string): Promise<Device | undefined> {
    const deviceId = await this.redis.hget(tenantKeys(tenantId).badgeOf, staffId);
    return deviceId ? this.get(tenantId, deviceId) : undefined;
  }

  /** Issues a new secret and revokes the old one; a client still connected with it is not affected until it reconnects. */
  async rotate(tenantId: string, deviceId: string, now = new Date()): Promise<RegisteredDevice> {
    const device = await this.records.patch(tenantId, deviceId, { credentialIssuedAt: now.toISOString() }, now);
    const password = await this.issueSecret(tenantId, deviceId);
    return { device, credential: { username: device.id, password } };
  }

  private async issueSecret(tenantId: string, deviceId: string): Promise<string> {
    const secret = `${DEVICE_SECRET_PREFIX}${randomBytes(24).toString('base64url')}`;
    const credentialKey = tenantKeys(tenantId).deviceCredentials;
    const previous = await this.redis.hget(credentialKey, deviceId);
    await this.redis.set(globalKeys.deviceCredential(hash(secret)), JSON.stringify({ tenantId, deviceId } satisfies DeviceLogin));
    await this.redis.hset(credentialKey, deviceId, hash(secret));
    if (previous) await this.redis.del(globalKeys.deviceCredential(previous));
    return secret;
  }

  async update(tenantId: string, deviceId: string, patch: UpdateDeviceInput, now = new Date()): Promise<Device> {
    const before = await this.mustGet(tenantId, deviceId);
    const device = await this.records.patch(tenantId, deviceId, patch, now);
    if (device.kind === 'badge' && before.staffId !== device.staffId) {
      const keys = tenantKeys(tenantId);
      if (before.staffId) await this.redis.hdel(keys.badgeOf, before.staffId);
      if (device.staffId) await this.redis.hset(keys.badgeOf, device.staffId, device.id);
    }
    return device;
  }

  get(tenantId: string, deviceId: string): Promise<Device | undefined> {
    return this.records.get(tenantId, deviceId);
  }

  list(tenantId: string): Promise<Device[]> {
    return this.records.list(tenantId);
  }

  /** The device a secret belongs to, if it is current and the device is enabled. */
  async login(secret: string): Promise<{ login: DeviceLogin; device: Device } | { refused: 'unknown' | 'disabled'; tenantId?: string }> {
    if (!secret.startsWith(DEVICE_SECRET_PREFIX)) return { refused: 'unknown' };
    const raw = await this.redis.get(globalKeys.deviceCredential(hash(secret)));
    if (!raw) return { refused: 'unknown' };
    const login = JSON.parse(raw) as DeviceLogin;
    const device = await this.get(login.tenantId, login.deviceId);
    if (!device) return { refused: 'unknown' };
    if (device.disabled) return { refused: 'disabled', tenantId: login.tenantId };
    return { login, device };
  }

  async mustGet(tenantId: string, deviceId: string): Promise<Device> {
    const device = await this.get(tenantId, deviceId);
    if (!device) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No device ${deviceId} in this tenant.`);
    return device;
  }
}
