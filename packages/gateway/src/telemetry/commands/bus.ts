import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { globalKeys } from '../../redis/keys.js';

/**
 * What a notice tells: a new command waits for the device, or its record changed (a new wearer,
 * driver, unit, coordinate system).
 */
export type DeviceNotice = 'command' | 'changed';

/**
 * Tells every gateway that a device has a new command in its outbox, so that the one holding
 * the device's connection (MQTT or JT/T 808) sends it at once, whichever gateway the command was
 * given to; or that its record changed, so that the one holding its connection reads it afresh.
 * Redis pub/sub: a notice is only a nudge. The command itself waits in the device's outbox until
 * the device confirms it, and a device that connects (or subscribes) anywhere is sent what waits
 * for it, so a notice lost while a gateway was cut off from Redis delays a command until the
 * device's next connection, and loses nothing; a lost change notice leaves the connection with
 * the record it logged in with until then.
 */
export class CommandBus {
  private subscriber: Redis | Cluster | undefined;
  /** Names this gateway's notices: the gateway that gave a command has already sent it if it could. */
  private readonly id = randomUUID();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Listens for notices; `onNotice` is called for every device other gateways tell about. */
  async start(onNotice: (tenantId: string, deviceId: string, kind: DeviceNotice) => void): Promise<void> {
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.log.debug({ err: error.message }, 'command notice subscriber'));
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { from, tenantId, deviceId, kind } = JSON.parse(message) as { from: string; tenantId: string; deviceId: string; kind?: DeviceNotice };
        // A notice without a kind is a command's, as every gateway before kinds sent them.
        if (from !== this.id) onNotice(tenantId, deviceId, kind ?? 'command');
      } catch (error) {
        this.log.warn({ err: error }, 'unreadable command notice');
      }
    });
    await subscriber.connect();
    await subscriber.subscribe(globalKeys.deviceCommands);
  }

  async notify(tenantId: string, deviceId: string, kind: DeviceNotice = 'command'): Promise<void> {
    await this.redis.publish(globalKeys.deviceCommands, JSON.stringify({ from: this.id, tenantId, deviceId, ...(kind === 'command' ? {} : { kind }) }));
  }

  close(): void {
    this.subscriber?.disconnect();
  }
}
