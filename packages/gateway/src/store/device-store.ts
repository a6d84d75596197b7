import { createHash, randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type CreateDeviceInput, type Device, type RegisteredDevice, type UpdateDeviceInput } from '@civicloop/model';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { Sealer } from '../auth/secrets.js';
import { ownTracksKeyBytes } from '../auth/owntracks-key.js';
import { registerScripts } from '../redis/scripts/index.js';
import { RecordHash } from './record-hash.js';
import { TtlCache } from './ttl-cache.js';
import { hasBrokerAccount, type DeviceAccounts } from './device-accounts.js';

/** A terminal number without its BCD padding: what registration over HTTP is matched on. */
export function normalizeTerminal(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

type Client = Redis | Cluster;

export const DEVICE_SECRET_PREFIX = 'cl_dk_';

/** How a device came by its record or secret, when not by an admin's hand: the provisioning profile that provisioned it. */
export type DeviceOrigin = Pick<Device, 'provisionedBy'>;

export interface DeviceLogin {
  tenantId: string;
  deviceId: string;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');
const newSecret = () => `${DEVICE_SECRET_PREFIX}${randomBytes(24).toString('base64url')}`;
/** How long a secret that logged in stays known (verifiedRecently): a device on a mobile carrier reconnects after every network drop. */
const VERIFIED_KEEP_MS = 24 * 3_600_000;

/**
 * Vehicles and badges, and their MQTT credentials: a random secret shown once, stored as a
 * hash, looked up afresh at every CONNECT so that disabling or rotating bites immediately.
 * With an external broker that keeps accounts of its own (mosquitto's dynamic security), each
 * change is made there first: a broker that refuses leaves the device as it was.
 */
export class DeviceStore {
  private readonly records: RecordHash<Device>;
  private accounts: DeviceAccounts | undefined;
  /** Hashes (not the secrets) of those that logged in within a day: this outlives the connections. */
  private readonly verified = new TtlCache<true>(VERIFIED_KEEP_MS, 100_000);

  /**
   * `sealer` seals OwnTracks encryption keys at rest (with the master key, as webhook secrets
   * are). `brokerAccounts`: MQTT devices have accounts in an external broker
   * (MQTT_BROKER_DYNSEC), kept through useAccounts().
   */
  constructor(
    private readonly redis: Client,
    private readonly sealer: Sealer,
    private readonly options: { brokerAccounts?: boolean } = {},
  ) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).devices, 'Device');
    registerScripts(redis);
  }

  /** Keeps device accounts in the external broker from now on; undefined while the gateway is not connected to it. */
  useAccounts(accounts: DeviceAccounts | undefined): void {
    this.accounts = accounts;
  }

  /**
   * Where this device's broker account is kept, if it has one. With MQTT_BROKER_DYNSEC, before
   * the gateway has connected to the broker (or after it has stopped) a change that needs the
   * account is refused rather than made in the registry alone.
   */
  private accountsFor(device: Pick<Device, 'protocol'>): DeviceAccounts | undefined {
    if (!this.options.brokerAccounts || !hasBrokerAccount(device)) return undefined;
    if (!this.accounts)
      throw new CivicLoopError(
        'CL_ERR_BROKER_UNAVAILABLE',
        "The gateway is not connected to the MQTT broker (MQTT_BROKER_URL) now, so the device's account there cannot be changed.",
      );
    return this.accounts;
  }

  private credential(tenantId: string, device: Device, password: string, accounts: DeviceAccounts | undefined): RegisteredDevice['credential'] {
    return { username: accounts ? accounts.username(tenantId, device.id) : device.id, password };
  }

  async register(tenantId: string, input: CreateDeviceInput, now = new Date(), origin?: DeviceOrigin): Promise<RegisteredDevice> {
    const at = now.toISOString();
    const protocol = input.protocol ?? 'mqtt';
    if (protocol === 'jt808' && !input.terminalId)
      throw new CivicLoopError('CL_ERR_VALIDATION', 'A jt808 device needs terminalId: the terminal number its JT/T 808 header carries.', {
        issues: [{ path: '/terminalId', message: 'required when protocol is jt808' }],
      });
    if (protocol !== 'jt808' && input.terminalId)
      throw new CivicLoopError('CL_ERR_VALIDATION', 'terminalId is for JT/T 808 terminals; send protocol: "jt808" with it.', {
        issues: [{ path: '/protocol', message: 'must be jt808 when terminalId is given' }],
      });
    const ownTracksKey = input.ownTracksKey === undefined ? undefined : this.ownTracksKeyFor({ protocol }, input.ownTracksKey);
    const id = input.id ?? `${input.kind === 'badge' ? 'b' : 'v'}_${randomBytes(5).toString('hex')}`;
    const terminal = input.terminalId ? normalizeTerminal(input.terminalId) : undefined;
    // A terminal number names one device across all tenants: its frames carry nothing else.
    if (
      terminal &&
      (await this.redis.set(globalKeys.jt808Terminal(terminal), JSON.stringify({ tenantId, deviceId: id } satisfies DeviceLogin), 'NX')) === null
    ) {
      throw new CivicLoopError('CL_ERR_TERMINAL_TAKEN', `Terminal number ${input.terminalId} is already registered to a device.`);
    }
    let device: Device;
    try {
      device = await this.insert(tenantId, input, id, at, origin);
    } catch (error) {
      if (terminal) await this.redis.del(globalKeys.jt808Terminal(terminal));
      throw error;
    }
    // The record exists but has no secret yet, so nothing can log in as it until the broker has its account.
    const secret = newSecret();
    let accounts: DeviceAccounts | undefined;
    try {
      if (ownTracksKey) await this.redis.hset(tenantKeys(tenantId).deviceOwnTracksKeys, device.id, this.sealer.seal(Buffer.from(ownTracksKey)));
      accounts = this.accountsFor(device);
      await accounts?.create(tenantId, device, secret);
    } catch (error) {
      await this.redis.hdel(tenantKeys(tenantId).devices, device.id);
      await this.redis.hdel(tenantKeys(tenantId).deviceOwnTracksKeys, device.id);
      await accounts?.remove(tenantId, device.id).catch(() => undefined);
      throw error;
    }
    if (device.staffId)
      await this.redis.hset(device.kind === 'badge' ? tenantKeys(tenantId).badgeOf : tenantKeys(tenantId).vehicleOf, device.staffId, device.id);
    await this.storeSecret(tenantId, device.id, secret);
    return { device, credential: this.credential(tenantId, device, secret, accounts) };
  }

  private insert(tenantId: string, input: CreateDeviceInput, id: string, at: string, origin: DeviceOrigin | undefined): Promise<Device> {
    return this.records.insert(tenantId, {
      id,
      kind: input.kind,
      name: input.name,
      ...(input.protocol && input.protocol !== 'mqtt' ? { protocol: input.protocol } : {}),
      ...(input.terminalId ? { terminalId: input.terminalId } : {}),
      ...(input.crs && input.crs !== 'wgs84' ? { crs: input.crs } : {}),
      skills: input.skills ?? [],
      disabled: false,
      credentialIssuedAt: at,
      createdAt: at,
      updatedAt: at,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.staffId ? { staffId: input.staffId } : {}),
      ...(input.plate ? { plate: input.plate } : {}),
      ...(input.ownTracksKey ? { ownTracksEncryption: true } : {}),
      ...origin,
    });
  }

  /** The 32-byte key of an OwnTracks encryption key, for a device that can send OwnTracks messages. */
  private ownTracksKeyFor(device: Pick<Device, 'protocol'>, secret: string): Uint8Array {
    if (device.protocol === 'jt808')
      throw new CivicLoopError('CL_ERR_VALIDATION', 'ownTracksKey is for phones running OwnTracks; a JT/T 808 terminal does not send OwnTracks messages.', {
        issues: [{ path: '/ownTracksKey', message: 'not for a jt808 device' }],
      });
    return ownTracksKeyBytes(secret);
  }

  /** The key that opens this device's encrypted OwnTracks messages, if it has one. */
  async ownTracksKey(tenantId: string, deviceId: string): Promise<Uint8Array | undefined> {
    const sealed = await this.redis.hget(tenantKeys(tenantId).deviceOwnTracksKeys, deviceId);
    return sealed ? new Uint8Array(this.sealer.open(sealed)) : undefined;
  }

  /** The JT/T 808 device a terminal number (leading zeros ignored) belongs to. */
  async byTerminal(terminal: string): Promise<{ tenantId: string; device: Device } | undefined> {
    const raw = await this.redis.get(globalKeys.jt808Terminal(normalizeTerminal(terminal)));
    if (!raw) return undefined;
    const { tenantId, deviceId } = JSON.parse(raw) as DeviceLogin;
    const device = await this.get(tenantId, deviceId);
    return device ? { tenantId, device } : undefined;
  }

  /**
   * A terminal's JT/T 808 registration (0x0100): the first one after the device was registered
   * over HTTP (or its credential rotated) gets a fresh authentication code, which is the device's
   * secret from then on; any later one gets nothing, so knowing a terminal number is not enough
   * to take over its device.
   */
  async registerTerminal(tenantId: string, deviceId: string, terminal: string, now = new Date()): Promise<string | undefined> {
    const claimed = await this.redis.set(globalKeys.jt808Registered(normalizeTerminal(terminal)), now.toISOString(), 'NX');
    if (claimed === null) return undefined;
    await this.records.patch(tenantId, deviceId, { credentialIssuedAt: now.toISOString() }, now);
    const secret = newSecret();
    await this.storeSecret(tenantId, deviceId, secret);
    return secret;
  }

  /** Staff id -> the devices whose wearer or driver they are: their badge, the vehicle they drive. */
  async devicesOf(tenantId: string, staffId: string): Promise<Device[]> {
    const keys = tenantKeys(tenantId);
    const ids = await Promise.all([this.redis.hget(keys.badgeOf, staffId), this.redis.hget(keys.vehicleOf, staffId)]);
    const found = await Promise.all(ids.filter((id): id is string => !!id).map((id) => this.get(tenantId, id)));
    return found.filter((d): d is Device => !!d);
  }

  /** The badge a staff member wears, if any. */
  async badgeOf(tenantId: string, staffId: string): Promise<Device | undefined> {
    const deviceId = await this.redis.hget(tenantKeys(tenantId).badgeOf, staffId);
    return deviceId ? this.get(tenantId, deviceId) : undefined;
  }

  /** Issues a new secret and revokes the old one; a client still connected with it is not affected until it reconnects. */
  async rotate(tenantId: string, deviceId: string, now = new Date(), origin?: DeviceOrigin): Promise<RegisteredDevice> {
    const secret = newSecret();
    const current = await this.mustGet(tenantId, deviceId);
    const accounts = this.accountsFor(current);
    await accounts?.setSecret(tenantId, current, secret);
    const device = await this.records.patch(tenantId, deviceId, { credentialIssuedAt: now.toISOString(), ...origin }, now);
    await this.storeSecret(tenantId, deviceId, secret);
    // A JT/T 808 terminal may register afresh and be given its own new code.
    if (device.terminalId) await this.redis.del(globalKeys.jt808Registered(normalizeTerminal(device.terminalId)));
    return { device, credential: this.credential(tenantId, device, secret, accounts) };
  }

  private async storeSecret(tenantId: string, deviceId: string, secret: string): Promise<void> {
    const credentialKey = tenantKeys(tenantId).deviceCredentials;
    const previous = await this.redis.hget(credentialKey, deviceId);
    await this.redis.set(globalKeys.deviceCredential(hash(secret)), JSON.stringify({ tenantId, deviceId } satisfies DeviceLogin));
    await this.redis.hset(credentialKey, deviceId, hash(secret));
    if (previous) await this.redis.del(globalKeys.deviceCredential(previous));
  }

  async update(tenantId: string, deviceId: string, input: UpdateDeviceInput, now = new Date()): Promise<Device> {
    const before = await this.mustGet(tenantId, deviceId);
    const { ownTracksKey: newKey, ...patch } = input;
    // Checked before anything is written: a key the apps cannot have changes nothing.
    const ownTracksKey = newKey === undefined || newKey === null ? newKey : this.ownTracksKeyFor(before, newKey);
    const accounts = patch.disabled !== undefined && patch.disabled !== before.disabled ? this.accountsFor(before) : undefined;
    if (accounts) {
      try {
        await accounts.setDisabled(tenantId, before, patch.disabled!);
      } catch (error) {
        // A broker that answered too late may still make the change: ask it to undo it, after it.
        await accounts.setDisabled(tenantId, before, before.disabled).catch(() => undefined);
        throw error;
      }
    }
    const keys = tenantKeys(tenantId);
    // The key and the record's flag change in one transaction; the key itself never goes into the record.
    const device =
      ownTracksKey === undefined
        ? await this.records.patch(tenantId, deviceId, patch, now)
        : await this.records.patch(tenantId, deviceId, { ...patch, ownTracksEncryption: ownTracksKey ? true : undefined }, now, (tx) =>
            ownTracksKey
              ? tx.hset(keys.deviceOwnTracksKeys, deviceId, this.sealer.seal(Buffer.from(ownTracksKey)))
              : tx.hdel(keys.deviceOwnTracksKeys, deviceId),
          );
    await this.relink(tenantId, before, device);
    return device;
  }

  /**
   * Links a vehicle to the person driving it now, or to nobody: what a JT/T 808 terminal reports
   * when a driver's IC card goes in or comes out (0x0702). As PATCH {staffId} does, without the rest.
   */
  async setDriver(tenantId: string, deviceId: string, staffId: string | undefined, now = new Date()): Promise<Device> {
    const before = await this.mustGet(tenantId, deviceId);
    if (before.staffId === staffId) return before;
    // undefined drops the field from the stored JSON: the vehicle is nobody's.
    const device = await this.records.patch(tenantId, deviceId, { staffId } as Partial<Device>, now);
    await this.relink(tenantId, before, device);
    return device;
  }

  /**
   * Keeps "whose badge, whose vehicle" (badgeOf, vehicleOf: the latest linked of each) in step with
   * a device's staffId. The old link is removed only if it still names this device: the person
   * may since have been linked to another (a driver whose card went into another truck).
   */
  private async relink(tenantId: string, before: Device, device: Device): Promise<void> {
    if (before.staffId === device.staffId) return;
    const keys = tenantKeys(tenantId);
    const wornOrDriven = device.kind === 'badge' ? keys.badgeOf : keys.vehicleOf;
    if (before.staffId) await this.redis.civicloopHashDeleteIf(1, wornOrDriven, before.staffId, device.id);
    if (device.staffId) await this.redis.hset(wornOrDriven, device.staffId, device.id);
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
    this.verified.set(hash(secret), true);
    return { login, device };
  }

  /**
   * Whether `secret` logged in through this store within a day, answered from memory. An address
   * past its failed-login limit gets a lookup only for such a secret (MQTT and JT/T 808): devices
   * on one carrier share its addresses, and one with a stale secret must not shut the others out.
   * The lookup itself still decides, so a rotation or a disabling bites as at any other login.
   */
  verifiedRecently(secret: string): boolean {
    return this.verified.get(hash(secret)) === true;
  }

  async mustGet(tenantId: string, deviceId: string): Promise<Device> {
    const device = await this.get(tenantId, deviceId);
    if (!device) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No device ${deviceId} in this tenant.`);
    return device;
  }
}
