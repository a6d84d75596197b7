import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BadgeCommand } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from './gateway-harness.js';

export interface RegisteredTestDevice {
  device: { id: string; kind: 'badge' | 'vehicle'; ownTracksEncryption?: boolean };
  credential: { username: string; password: string };
}

export interface DeviceGateway {
  /** The gateway, with telemetry, once the file's beforeAll has run. */
  readonly gw: TestGateway;
  /** Registers a device over HTTP with the tenant's secret key (a badge named Phone unless `body` says otherwise). */
  register(body?: Record<string, unknown>): Promise<RegisteredTestDevice>;
  /** Connects an MQTT 3.1.1 client over TCP as a device; the file's afterAll closes it. */
  connect(username: string, password: string, options?: IClientOptions): Promise<MqttClient>;
  /** Gives a registered device a command, as dispatching or locating it does (through its outbox). */
  giveCommand(deviceId: string, command: BadgeCommand): Promise<void>;
}

/** An assignment as a dispatch gives one, for tests of how it reaches a device. */
export const SAMPLE_ASSIGNMENT: BadgeCommand = {
  type: 'assignment',
  ticketId: 't-1',
  number: 'GZ-1',
  category: 'sanitation.litter',
  description: 'Litter',
  location: { lat: 23.13, lon: 113.32 },
  priority: 'normal',
};

/**
 * A gateway with telemetry for one test file that drives devices: started before its tests and
 * closed after them, with the MQTT clients they opened.
 */
export function useDeviceGateway(): DeviceGateway {
  let gateway: TestGateway | undefined;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    gateway = await startTestGateway({}, { telemetry: true });
  });
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await gateway?.close();
  });
  const gw = () => {
    if (!gateway) throw new Error('the device gateway starts in beforeAll');
    return gateway;
  };
  return {
    get gw() {
      return gw();
    },
    async register(body = {}) {
      const res = await inject(gw(), 'POST', '/v1/devices', { auth: gw().tenant.secretKey, body: { kind: 'badge', name: 'Phone', ...body } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as RegisteredTestDevice;
    },
    async connect(username, password, options = {}) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw().telemetry!.tcpPort}`, {
        username,
        password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async giveCommand(deviceId, command) {
      const device = await gw().services.devices.get(gw().tenant.id, deviceId);
      if (!device) throw new Error(`no device ${deviceId}`);
      await gw().telemetry!.sendCommand(gw().tenant.id, device, command);
    },
  };
}
