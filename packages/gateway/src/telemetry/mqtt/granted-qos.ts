import type { Client } from 'aedes';

/**
 * The QoS a client's subscription to `topic` (a filter, as it subscribed) was granted, or
 * undefined when it has none. aedes keeps a client's subscriptions (a persistent session's
 * restored ones too) on the client; its types do not say so.
 */
export function grantedQos(client: Client, topic: string): number | undefined {
  const subscription = (client as Client & { subscriptions: Record<string, { qos?: number } | undefined> }).subscriptions[topic];
  return subscription ? (subscription.qos ?? 0) : undefined;
}

/** What the gateway sends a device on a subscription: never above what it was granted (MQTT-3.8.4-6), and at most 1. */
export const sendingQos = (granted: number): 0 | 1 => (granted === 0 ? 0 : 1);
