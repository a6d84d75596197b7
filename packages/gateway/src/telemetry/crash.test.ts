import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { api } from '@civicloop/test-support/gateway-harness.js';
import { CrashableGateway } from '@civicloop/test-support/gateway-process.js';
import { tenantKeys } from '../redis/keys.js';
import { decodeStoredPosition } from '../store/stored-position.js';

let gateway: CrashableGateway;

beforeAll(async () => {
  gateway = await CrashableGateway.start();
});
afterAll(async () => gateway?.stop());

describe('a gateway killed with QoS 1 publishes in flight', () => {
  it('has every acknowledged message in Redis after restart, none twice', async () => {
    const url = gateway.url;
    const tenant = await api(url, 'POST', '/v1/tenants', { auth: 'crash-operator', body: { code: 'CRASH', name: 'Crash' } });
    const device = await api(url, 'POST', '/v1/devices', { auth: tenant.body.secretKey, body: { kind: 'vehicle', name: 'Crash truck' } });
    const { username, password } = device.body.credential;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.env.MQTT_PORT}`, {
      username,
      password,
      clientId: 'crash-truck',
      clean: false,
      reconnectPeriod: 100,
      connectTimeout: 2000,
    });

    const total = 1500;
    const acked = new Set<number>();
    const ackedBeforeKill = new Set<number>();
    const topic = nativeTopic(tenant.body.tenant.id, 'vehicle', device.body.device.id, 'position');
    const start = Date.now() - total * 10;
    const all = Array.from(
      { length: total },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const ts = start + i * 10;
          client.publish(topic, JSON.stringify({ ts, lat: 23.1 + i * 1e-5, lon: 113.2 }), { qos: 1 }, (error) => {
            if (error) return reject(error);
            acked.add(ts);
            resolve();
          });
        }),
    );
    // Kill once some, but not all, are acknowledged.
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 5));
    const exited = gateway.kill();
    for (const ts of acked) ackedBeforeKill.add(ts);
    expect(ackedBeforeKill.size).toBeLessThan(total);
    await exited;
    await gateway.restart();
    await Promise.all(all);
    client.end(true);

    const keys = tenantKeys(tenant.body.tenant.id);
    const entries = await gateway.redis.client.xrange(keys.track(device.body.device.id), '-', '+');
    const stored = entries.map(([, fields]) => decodeStoredPosition(fields[1]!).fixTime);
    expect(new Set(stored).size).toBe(stored.length);
    for (const ts of ackedBeforeKill) expect(stored).toContain(ts);
    expect(stored.length).toBe(total);
  });
});
