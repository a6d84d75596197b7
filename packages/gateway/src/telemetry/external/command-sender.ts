import type { FastifyBaseLogger } from 'fastify';
import type { MqttClient } from 'mqtt';
import { nativeTopic, type Device } from '@civicloop/model';
import type { DeviceOutbox } from '../../store/device-outbox.js';
import type { TenantCounters } from '../counters.js';

/** MQTT 5 PUBACK reason code: the broker took the message but no client is subscribed to its topic. */
const NO_MATCHING_SUBSCRIBERS = 16;

/**
 * Sends MQTT devices their commands through the external broker: each outbox entry is published
 * at QoS 1 on the device's cmd topic, with its id as `commandId`. The broker's PUBACK says what
 * became of it:
 *
 * - 0: the broker has it for the device (delivered, or queued in the device's persistent
 *   session until it comes back): the entry leaves the outbox;
 * - 16, no matching subscribers: the device is away with a clean session, and the broker kept
 *   nothing; the entry stays, and is sent again when the device says it is online.
 *
 * Any gateway may publish any device's commands, so an entry is claimed in Redis (SET NX, with a
 * TTL) before it is published: two gateways sending at once do not both publish it. A gateway that
 * dies between the publish and the confirmation leaves the claim to expire, and the entry is then
 * sent again: the device may see that command twice, with the same `commandId`.
 */
export class ExternalCommandSender {
  private readonly pubackCodes = new Map<number, number>();

  constructor(
    private readonly client: MqttClient,
    private readonly outbox: DeviceOutbox,
    private readonly log: FastifyBaseLogger,
    private readonly counters: TenantCounters,
    private readonly claimMs = 60_000,
  ) {
    // mqtt.js settles a publish without its PUBACK's reason code; this is where the code is seen.
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined) this.pubackCodes.set(packet.messageId, packet.reasonCode ?? 0);
    });
  }

  /** Sends what waits in the device's outbox. */
  deliver(tenantId: string, device: Device): void {
    this.send(tenantId, device).catch((error: unknown) =>
      this.log.warn({ err: error, device: device.id }, 'could not send waiting commands through the MQTT broker'),
    );
  }

  async send(tenantId: string, device: Device): Promise<void> {
    const topic = nativeTopic(tenantId, device.kind, device.id, 'cmd');
    for (const entry of await this.outbox.waiting(tenantId, device)) {
      if (!(await this.outbox.claim(tenantId, entry.id, this.claimMs))) continue;
      let code: number;
      try {
        code = await this.publish(topic, Buffer.from(JSON.stringify({ ...entry.command, commandId: entry.id })));
      } catch (error) {
        await this.outbox.release(tenantId, entry.id);
        throw error;
      }
      if (code === NO_MATCHING_SUBSCRIBERS) {
        // Nobody to give it to: the rest would fare the same.
        this.counters.of(tenantId).commandsKept++;
        await this.outbox.release(tenantId, entry.id);
        return;
      }
      // Counted before the entry leaves the outbox: whoever sees the outbox empty sees the count.
      this.counters.of(tenantId).commandsSent++;
      await this.outbox.confirm(tenantId, device, entry.id);
    }
  }

  private publish(topic: string, payload: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1 }, (error, packet) => {
        const id = packet?.messageId;
        const code = id === undefined ? undefined : this.pubackCodes.get(id);
        if (id !== undefined) this.pubackCodes.delete(id);
        if (error) reject(error);
        else resolve(code ?? 0);
      });
    });
  }
}
