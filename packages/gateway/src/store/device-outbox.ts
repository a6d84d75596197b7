import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { BadgeCommand, Device } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';

/** A command waiting for its device: `id` goes with it (MQTT `commandId`), so the device's confirmation finds it. */
export interface OutboxEntry {
  id: string;
  command: BadgeCommand;
  /** When it was given, epoch ms (absent on entries kept by a gateway before it recorded this). */
  givenAt?: number;
}

/** How many unconfirmed commands a device's outbox keeps; older ones are dropped. */
export const OUTBOX_KEEP = 50;

/**
 * Each device's commands, kept in Redis until the device confirms them (an MQTT PUBACK, a JT/T
 * 808 general response 0x0001): whichever gateway holds the device's connection, now or when it
 * comes back, reads them from here. A Redis list per device, newest first, in the tenant's slot.
 */
export class DeviceOutbox {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  private key(tenantId: string, device: Pick<Device, 'id' | 'protocol'>): string {
    const keys = tenantKeys(tenantId);
    return device.protocol === 'jt808' ? keys.jt808Outbox(device.id) : keys.mqttOutbox(device.id);
  }

  /**
   * Adds a command, replacing what still waits about the same ticket (see the script): a device
   * is sent only the latest word on each ticket, an assignment or its withdrawal.
   */
  async push(tenantId: string, device: Pick<Device, 'id' | 'protocol'>, command: BadgeCommand): Promise<OutboxEntry> {
    const entry: OutboxEntry = { id: randomUUID(), command, givenAt: Date.now() };
    const ticketId = 'ticketId' in command ? command.ticketId : '';
    await this.redis.civicloopOutboxPush(1, this.key(tenantId, device), JSON.stringify(entry), ticketId, OUTBOX_KEEP);
    return entry;
  }

  /** What waits for the device, oldest first. */
  async waiting(tenantId: string, device: Pick<Device, 'id' | 'protocol'>): Promise<OutboxEntry[]> {
    const raw = await this.redis.lrange(this.key(tenantId, device), 0, -1);
    return raw.reverse().map((entry) => JSON.parse(entry) as OutboxEntry);
  }

  /**
   * Claims an entry for sending (SET NX with a TTL): any gateway may send any device's commands,
   * and two sending at once must not both publish it. Whether this call got it.
   */
  async claim(tenantId: string, entryId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(tenantKeys(tenantId).commandClaim(entryId), '1', 'PX', ttlMs, 'NX')) !== null;
  }

  /** Gives a claim back, for the entry to be sent again (by this gateway or another) without waiting for the TTL. */
  async release(tenantId: string, entryId: string): Promise<void> {
    await this.redis.del(tenantKeys(tenantId).commandClaim(entryId));
  }

  /** The device confirmed this command: it is not sent again. */
  async confirm(tenantId: string, device: Pick<Device, 'id' | 'protocol'>, entryId: string): Promise<void> {
    const key = this.key(tenantId, device);
    for (const raw of await this.redis.lrange(key, 0, -1)) {
      if ((JSON.parse(raw) as OutboxEntry).id === entryId) await this.redis.lrem(key, 1, raw);
    }
  }
}
