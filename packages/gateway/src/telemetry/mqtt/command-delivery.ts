import type { Aedes, Client, PublishPacket } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { THINGSBOARD_RPC_REQUEST_PREFIX, type BadgeCommand } from '@civicloop/model';
import type { DeviceOutbox } from '../../store/device-outbox.js';
import { sessionOf } from './authenticate.js';
import { isOwnCommandTopic, ownCommandTopics } from './authorize-subscribe.js';
import { ownTracksCommand } from '../owntracks-command.js';
import type { OwnTracksJobs, OwnTracksWaypoint } from '../owntracks-jobs.js';
import { thingsBoardCommand } from '../thingsboard-command.js';
import { OneAtATime } from '../one-at-a-time.js';
import { grantedQos, sendingQos } from './granted-qos.js';

/**
 * Sends MQTT devices the commands waiting in their outboxes, on their cmd topic at QoS 1, with
 * the outbox entry's id as `commandId` in the payload:
 *
 * - when a command is given (here or, through the command bus, on another gateway), if the
 *   device is connected here and subscribed to its cmd topic;
 * - when a device subscribes to its cmd topic, or connects with a persistent session that
 *   already holds that subscription.
 *
 * A command leaves the outbox when the device acknowledges it (PUBACK). A device with a clean
 * session has, as MQTT says, nothing kept for it across connections: its command leaves the
 * outbox once written to it. Commands are sent from the outbox only, never from aedes' own
 * session store: what aedes kept for a device that went away is dropped, so a device that comes
 * back (here or on another gateway) is sent each command once, from the outbox.
 */
export class MqttCommandDelivery {
  /** Per connection, the outbox entries sent on it and not yet acknowledged. */
  private readonly sent = new WeakMap<Client, Set<string>>();
  /** Per connection, the last ThingsBoard RPC request id used on it (ThingsBoard's ids are integers, counted per session). */
  private readonly rpcIds = new WeakMap<Client, number>();
  /** One send per connection at a time, so that what it is sent keeps the order it was given in. */
  private readonly sends = new OneAtATime<Client>();

  constructor(
    private readonly broker: Aedes,
    private readonly outbox: DeviceOutbox,
    private readonly log: FastifyBaseLogger,
    /** An OwnTracks phone's jobs, which it is sent as regions for an assignment or a withdrawal. */
    private readonly ownTracksJobs: OwnTracksJobs,
  ) {
    broker.on('clientReady', (client) => this.deliver(client));
    broker.on('subscribe', (subscriptions, client) => {
      const session = sessionOf(client);
      if (session && subscriptions.some((s) => isOwnCommandTopic(session, s.topic))) this.deliver(client);
    });
    broker.on('ack', (packet, client) => this.acknowledged(packet as PublishPacket | undefined, client));
    broker.on('clientDisconnect', (client) => void this.forgetSessionCopies(client));
  }

  /** Sends the client what waits for its device, except what it was sent and has not acknowledged yet. */
  deliver(client: Client): void {
    void this.sends
      .run(client, () => this.send(client))
      .catch((error: unknown) => this.log.warn({ err: error, client: client.id }, 'could not send waiting commands'));
  }

  private async send(client: Client): Promise<void> {
    const session = sessionOf(client);
    const channel = commandChannel(client);
    if (!session || !channel) return;
    const sent = this.sent.get(client) ?? new Set<string>();
    this.sent.set(client, sent);
    const jobs = this.ownTracksJobs.forOnePass(session.tenantId, session.device);
    for (const entry of await this.outbox.waiting(session.tenantId, session.device)) {
      if (client.closed || sent.has(entry.id)) continue;
      const message = await commandMessage(channel.format, entry.command, entry.id, session.ownTracksKey, jobs);
      // What OwnTracks has no command for (an alarm confirmation) waits in the outbox for a native client.
      if (!message || client.closed || sent.has(entry.id)) continue;
      sent.add(entry.id);
      let topic = channel.topic;
      if (channel.format === 'thingsboard') {
        const requestId = (this.rpcIds.get(client) ?? 0) + 1;
        this.rpcIds.set(client, requestId);
        topic = `${THINGSBOARD_RPC_REQUEST_PREFIX}${requestId}`;
      }
      const payload = Buffer.from(JSON.stringify(message));
      // At QoS 0 no PUBACK will come.
      const qos = sendingQos(channel.qos);
      const written = await new Promise<boolean>((resolve) =>
        client.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (error?: Error) => resolve(!error)),
      );
      if (written && (client.clean || qos === 0)) await this.outbox.confirm(session.tenantId, session.device, entry.id);
    }
  }

  private acknowledged(packet: PublishPacket | undefined, client: Client): void {
    const session = sessionOf(client);
    // aedes reports the acknowledged packet only for persistent sessions (clean ones were confirmed when written).
    if (!session || !packet || !isOwnCommandTopic(session, packet.topic)) return;
    let commandId: unknown;
    try {
      const sent = JSON.parse(Buffer.from(packet.payload as Buffer).toString()) as { commandId?: unknown; params?: { commandId?: unknown } };
      commandId = sent.commandId ?? sent.params?.commandId;
    } catch {
      return;
    }
    if (typeof commandId !== 'string') return;
    // Still counted as sent until it has left the outbox: a send that reads the outbox meanwhile
    // would otherwise find it there, not sent, and send it again.
    void this.outbox
      .confirm(session.tenantId, session.device, commandId)
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not confirm a command'))
      .finally(() => this.sent.get(client)?.delete(commandId));
  }

  /** Drops the cmd packets aedes keeps for a persistent session that went away: the outbox sends them again. */
  private async forgetSessionCopies(client: Client): Promise<void> {
    const session = sessionOf(client);
    if (client.clean || !session) return;
    const persistence = (this.broker as unknown as { persistence: unknown }).persistence as {
      outgoingStream(client: Client): AsyncIterable<PublishPacket>;
      outgoingClearMessageId(client: Client, packet: PublishPacket): Promise<unknown>;
    };
    try {
      for await (const packet of persistence.outgoingStream(client))
        if (isOwnCommandTopic(session, packet.topic)) await persistence.outgoingClearMessageId(client, packet);
    } catch (error) {
      this.log.warn({ err: error, client: client.id }, 'could not drop a session copy of a command');
    }
  }
}

type ChannelFormat = 'native' | 'owntracks' | 'thingsboard';

/**
 * Where a client takes its commands, in which form and at what QoS it was granted: its native cmd
 * topic if it subscribed to it, else ThingsBoard's RPC requests, else the OwnTracks cmd topic it
 * subscribed to (the app subscribes to `owntracks/<user>/<Device ID>/cmd` when remote commands are on).
 */
function commandChannel(client: Client): { topic: string; format: ChannelFormat; qos: number } | undefined {
  const session = sessionOf(client);
  if (!session) return undefined;
  const granted = (topic: string, format: ChannelFormat) => {
    const qos = grantedQos(client, topic);
    return qos === undefined ? undefined : { topic, format, qos };
  };
  const [native, ...ownTracks] = ownCommandTopics(session);
  return (
    granted(native!, 'native') ??
    granted(`${THINGSBOARD_RPC_REQUEST_PREFIX}+`, 'thingsboard') ??
    ownTracks.map((topic) => granted(topic, 'owntracks')).find(Boolean)
  );
}

/** A command as the channel's format takes it, or undefined when that format has no form for it. */
async function commandMessage(
  format: ChannelFormat,
  command: BadgeCommand,
  commandId: string,
  key: Uint8Array | undefined,
  jobs: () => Promise<OwnTracksWaypoint[]>,
): Promise<Record<string, unknown> | undefined> {
  if (format === 'native') return { ...command, commandId };
  if (format === 'owntracks') return ownTracksCommand(command, commandId, key, jobs);
  return thingsBoardCommand(command, commandId);
}
