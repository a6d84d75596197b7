import type { IClientOptions, MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (error?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

/**
 * QoS 1 acknowledgement after storing, with several messages of one connection stored at once.
 *
 * mqtt.js' manual acknowledgement (`customHandleAcks`) takes a connection's next message only
 * once the PUBACK of the one before has been sent, so a connection stores one message at a time:
 * one Redis round trip each, no batching. Here `customHandleAcks` starts storing and lets mqtt.js
 * go on at once, and the PUBACK mqtt.js then sends is held back until that message is stored, and
 * until every message received before it on the connection has been acknowledged, since MQTT
 * wants PUBACKs in the order the messages came (MQTT 5, 4.6). A message that could not be stored
 * is never acknowledged, nor any after it on that connection: `onFailure` drops the connection and
 * the broker sends them all again on the next one (a persistent session).
 *
 * Holding the PUBACK back means wrapping mqtt.js' private `_sendPacket`, the one place PUBACKs
 * leave: the external-broker tests (a store that fails, a gateway killed mid-stream) fail if a
 * release of mqtt.js changes it.
 */
export function pipelinedAcks(
  store: (topic: string, payload: Buffer) => Promise<void>,
  onFailure: (error: unknown) => void,
): {
  customHandleAcks: NonNullable<IClientOptions['customHandleAcks']>;
  attach(client: MqttClient): void;
  /**
   * Waits until no message has come for `quietMs` and every message that came is acknowledged:
   * true then; false if a message was withheld (not stored) or `maxMs` passed first. What a
   * connection waits for before it leaves.
   */
  settle(quietMs: number, maxMs: number): Promise<boolean>;
} {
  const storing = new Map<number, Promise<boolean>>();
  /** Resolves once every PUBACK queued so far on this connection is sent; false once one was withheld. */
  let tail: Promise<boolean> = Promise.resolve(true);
  let lastMessageAt = 0;
  return {
    async settle(quietMs, maxMs) {
      const deadline = Date.now() + maxMs;
      const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), Math.max(0, ms)));
      for (;;) {
        const waited = tail;
        const acknowledged = await Promise.race([waited, sleep(deadline - Date.now())]);
        // Past the deadline with a store still running, or a message withheld: not everything was acknowledged.
        if (acknowledged !== true) return false;
        const quietFor = Date.now() - lastMessageAt;
        if (quietFor >= quietMs && waited === tail) return true;
        if (Date.now() >= deadline) return false;
        await sleep(Math.max(10, Math.min(quietMs - quietFor, deadline - Date.now())));
      }
    },
    customHandleAcks: (topic, payload, packet, done) => {
      lastMessageAt = Date.now();
      const stored = store(topic, payload).then(
        () => true,
        (error: unknown) => {
          onFailure(error);
          return false;
        },
      );
      if (packet.messageId !== undefined) storing.set(packet.messageId, stored);
      done(0);
    },
    attach(client) {
      const internals = client as unknown as { _sendPacket: SendPacket; stream: unknown };
      const send = internals._sendPacket.bind(client);
      // A new connection starts afresh: the broker resends what the old one did not acknowledge.
      client.on('connect', () => {
        storing.clear();
        tail = Promise.resolve(true);
      });
      internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
        const stored = packet.cmd === 'puback' && packet.messageId !== undefined ? storing.get(packet.messageId) : undefined;
        if (!stored) return send(packet, cb, cbStorePut, noStore);
        storing.delete(packet.messageId!);
        const stream = internals.stream;
        tail = tail.then(async (inOrder) => {
          const ok = inOrder && (await stored);
          // Only on the connection the message came on: a PUBACK on the next would answer another message.
          if (ok && client.connected && internals.stream === stream) send(packet);
          return ok;
        });
        // mqtt.js takes the next message now.
        cb?.();
      };
    },
  };
}
