import { afterAll, beforeAll } from 'vitest';
import { startTestGateway, type TestGateway } from './gateway-harness.js';
import { startTestMosquitto, type TestMosquitto } from './mosquitto.js';

/** A gateway's settings for external-broker mode against `broker`, as the admin, managing device accounts there. */
export const externalBrokerMode = (broker: TestMosquitto, clientId: string) => ({
  mqttBrokerUrl: broker.url,
  mqttBrokerUsername: broker.admin.username,
  mqttBrokerPassword: broker.admin.password,
  mqttBrokerClientId: clientId,
  mqttBrokerDynsec: true,
  mqttBrokerSubscribers: 2,
  mqttBrokerDynsecTimeoutMs: 1000,
  jt808Port: false as const,
});

export interface ExternalBrokerPair {
  broker: TestMosquitto;
  first: TestGateway;
  second: TestGateway;
  close(): Promise<void>;
}

/**
 * Two gateways in external-broker mode on one Redis and a real mosquitto 2 with its dynamic
 * security plugin: devices connect to mosquitto with the accounts the gateways made there.
 */
export async function startExternalBrokerPair(): Promise<ExternalBrokerPair> {
  const broker = await startTestMosquitto();
  const first = await startTestGateway(externalBrokerMode(broker, 'gw-first'), { telemetry: true });
  const second = await startTestGateway(externalBrokerMode(broker, 'gw-second'), { telemetry: true, redis: first.redis });
  return {
    broker,
    first,
    second,
    async close() {
      await second.close();
      await first.close();
      await broker.stop();
    },
  };
}

export interface ExternalBrokerGateways {
  readonly broker: TestMosquitto;
  readonly first: TestGateway;
  readonly second: TestGateway;
  /** Closes `client` (a device's connection) after the file's tests. */
  closeAfter<T extends { end(force?: boolean): unknown }>(client: T): T;
}

/** The pair above for one test file: started before its tests, closed after them with the clients handed to closeAfter. */
export function useExternalBrokerPair(): ExternalBrokerGateways {
  let pair: ExternalBrokerPair | undefined;
  const clients: { end(force?: boolean): unknown }[] = [];
  beforeAll(async () => {
    pair = await startExternalBrokerPair();
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await pair?.close();
  });
  const started = () => {
    if (!pair) throw new Error('the external broker pair starts in beforeAll');
    return pair;
  };
  return {
    get broker() {
      return started().broker;
    },
    get first() {
      return started().first;
    },
    get second() {
      return started().second;
    },
    closeAfter(client) {
      clients.push(client);
      return client;
    },
  };
}
