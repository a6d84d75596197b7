import type { FastifyBaseLogger } from 'fastify';
import type { MqttClient } from 'mqtt';
import { nativeTopic, type Device } from '@civicloop/model';
import type { DeviceOutbox, OutboxEntry } from '../../store/device-outbox.js';
import type { TenantCounters } from '../counters.js';
import { hasOwnTracksForm, ownTracksCommand } from '../owntracks-command.js';
import { OneAtATime } from '../one-at-a-time.js';
import type { OwnTracksJobs, OwnTracksWaypoint } from '../owntracks-jobs.js';
import { ownTracksCommandTopic } from './account-name.js';

/** MQTT 5 PUBACK reason code: the broker took the message but no client is subscribed to its topic. */
const NO_MATCHING_SUBSCRIBERS = 16;

/** The two ways a device on an external broker takes commands: its native cmd topic, or the OwnTracks app's. */
type Channel = 'native' | 'owntracks';

/**
 * Sends MQTT devices their commands through the external broker: each outbox entry is published
 * at QoS 1 on the device's native cmd topic, with its id as `commandId`; where nobody takes that
 * and the command has an OwnTracks form (a location request; an assignment or a withdrawal, as
 * the wearer's jobs), on the OwnTracks app's cmd topic (`owntracks/<tenant>.<device>/<device>/cmd`)
 * as OwnTracks' own command, sealed for an app that encrypts. The broker's PUBACK says what became of it:
 *
 * - 0: the broker has it for the device (delivered, or queued in the device's persistent
 *   session until it comes back): the entry leaves the outbox;
 * - 16, no matching subscribers: the device is away with a clean session (or takes commands on
 *   the other topic), and the broker kept nothing; the entry stays, and is sent again when the
 *   device says it is online (native) or is next heard from (OwnTracks). What a device cannot
 *   take in the form it listens to (an alarm confirmation, for an OwnTracks phone) waits likewise.
 *
 * Any gateway may publish any device's commands, so an entry is claimed in Redis (SET NX, with a
 * TTL) before it is published: two gateways sending at once do not both publish it. A gateway that
 * dies between the publish and the confirmation leaves the claim to expire, and the entry is then
 * sent again: the device may see that command twice, with the same `commandId`.
 */
export class ExternalCommandSender {
  private readonly pubackCodes = new Map<number, number>();
  /** One send per device at a time on this gateway, so that what it is sent keeps the order it was given in. */
  private readonly sends = new OneAtATime<string>();

  constructor(
    private readonly client: MqttClient,
    private readonly outbox: DeviceOutbox,
    private readonly log: FastifyBaseLogger,
    private readonly counters: TenantCounters,
    /** The key an OwnTracks app's commands are sealed with, if its device has one. */
    private readonly ownTracksKey: (tenantId: string, device: Device) => Promise<Uint8Array | undefined>,
    /** An OwnTracks phone's jobs, which it is sent as regions for an assignment or a withdrawal. */
    private readonly ownTracksJobs: OwnTracksJobs,
    /**
     * Called when an entry nobody took is given back: a device that takes its commands another
     * way (an HTTP long poll) may have looked while this held it.
     */
    private readonly onKept: (tenantId: string, deviceId: string) => void = () => {},
    private readonly claimMs = 60_000,
  ) {
    // mqtt.js settles a publish without its PUBACK's reason code; this is where the code is seen.
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined) this.pubackCodes.set(packet.messageId, packet.reasonCode ?? 0);
    });
  }

  /** Sends what waits in the device's outbox; `only` when the device was just heard from on that channel. */
  deliver(tenantId: string, device: Device, only?: Channel): void {
    this.sends
      .run(`${tenantId}/${device.id}`, () => this.send(tenantId, device, only))
      .catch((error: unknown) => this.log.warn({ err: error, device: device.id }, 'could not send waiting commands through the MQTT broker'));
  }

  async send(tenantId: string, device: Device, only?: Channel): Promise<void> {
    // Channels the broker said nobody listens on: the rest of the outbox would fare the same there.
    const away = new Set<Channel>(only === 'owntracks' ? ['native'] : only === 'native' ? ['owntracks'] : []);
    const jobs = this.ownTracksJobs.forOnePass(tenantId, device);
    for (const entry of await this.outbox.waiting(tenantId, device)) {
      if (away.size === 2) return;
      const forms = this.forms(tenantId, device, entry, away, jobs);
      if (forms.length === 0 || !(await this.outbox.claim(tenantId, entry.id, this.claimMs))) continue;
      let delivered = false;
      try {
        for (const form of forms) {
          const code = await this.publish(form.topic, Buffer.from(JSON.stringify(await form.message())));
          if (code !== NO_MATCHING_SUBSCRIBERS) {
            delivered = true;
            break;
          }
          away.add(form.channel);
        }
      } catch (error) {
        await this.outbox.release(tenantId, entry.id);
        throw error;
      }
      if (!delivered) {
        this.counters.of(tenantId).commandsKept++;
        await this.outbox.release(tenantId, entry.id);
        this.onKept(tenantId, device.id);
        continue;
      }
      // Counted before the entry leaves the outbox: whoever sees the outbox empty sees the count.
      this.counters.of(tenantId).commandsSent++;
      await this.outbox.confirm(tenantId, device, entry.id);
    }
  }

  /** The ways this entry can still go, native first: OwnTracks has no form for an alarm confirmation. */
  private forms(tenantId: string, device: Device, entry: OutboxEntry, away: Set<Channel>, jobs: () => Promise<OwnTracksWaypoint[]>) {
    const forms: { channel: Channel; topic: string; message: () => Promise<unknown> }[] = [];
    if (!away.has('native'))
      forms.push({
        channel: 'native',
        topic: nativeTopic(tenantId, device.kind, device.id, 'cmd'),
        message: async () => ({ ...entry.command, commandId: entry.id }),
      });
    if (!away.has('owntracks') && hasOwnTracksForm(entry.command))
      forms.push({
        channel: 'owntracks',
        topic: ownTracksCommandTopic(tenantId, device.id),
        message: async () =>
          ownTracksCommand(entry.command, entry.id, device.ownTracksEncryption ? await this.ownTracksKey(tenantId, device) : undefined, jobs),
      });
    return forms;
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
