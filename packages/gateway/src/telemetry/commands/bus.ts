import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { globalKeys } from '../../redis/keys.js';

/**
 * Tells every gateway that a device has a new command in its outbox, so that the one holding
 * the device's connection (MQTT or JT/T 808) sends it at once, whichever gateway the command was
 * given to. Redis pub/sub: a notice is only a nudge. The command itself waits in the device's
 * outbox until the device confirms it, and a device that connects (or subscribes) anywhere is
 * sent what waits for it, so a notice lost while a gateway was cut off from Redis delays a
 * command until the device's next connection, and loses nothing.
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
  async start(onNotice: (tenantId: string, deviceId: string) => void): Promise<void> {
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.log.debug({ err: error.message }, 'command notice subscriber'));
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { from, tenantId, deviceId } = JSON.parse(message) as { from: string; tenantId: string; deviceId: string };
        if (from !== this.id) onNotice(tenantId, deviceId);
      } catch (error) {
        this.log.warn({ err: error }, 'unreadable command notice');
      }
    });
    await subscriber.connect();
    await subscriber.subscribe(globalKeys.deviceCommands);
  }

  async notify(tenantId: string, deviceId: string): Promise<void> {
    await this.redis.publish(globalKeys.deviceCommands, JSON.stringify({ from: this.id, tenantId, deviceId }));
  }

  close(): void {
    this.subscriber?.disconnect();
  }
}
