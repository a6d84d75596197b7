import type { Client } from 'aedes';
import { grantedQos, sendingQos } from './granted-qos.js';

/** `v1/devices/me/attributes/request/<n>`: ThingsBoard-style firmware asking for its attributes' values. */
const ATTRIBUTE_REQUEST = /^v1\/devices\/me\/attributes\/request\/(\d{1,10})$/;
const RESPONSE_SUBSCRIPTION = 'v1/devices/me/attributes/response/+';

/** The request id of an attribute request, or undefined for any other topic. */
export const attributeRequestId = (topic: string): string | undefined => ATTRIBUTE_REQUEST.exec(topic)?.[1];

/**
 * Answers an attribute request as ThingsBoard answers a device that has no attributes: `{}` on
 * `v1/devices/me/attributes/response/<n>`, to the asking connection alone (the topic names no
 * device), if it subscribed to the responses. CivicLoop keeps no attributes (what firmware
 * publishes on `v1/devices/me/attributes` is set aside), and firmware that asks for its shared
 * attributes when it starts, as ThingsBoard's device SDKs do, goes on at once instead of waiting
 * out its timeout. Sent at the QoS the subscription was granted, at most 1.
 */
export function answerAttributeRequest(client: Client, requestId: string): void {
  const granted = grantedQos(client, RESPONSE_SUBSCRIPTION);
  if (granted === undefined || client.closed) return;
  const qos = sendingQos(granted);
  client.publish(
    { cmd: 'publish', topic: `v1/devices/me/attributes/response/${requestId}`, payload: Buffer.from('{}'), qos, retain: false, dup: false },
    () => undefined,
  );
}
