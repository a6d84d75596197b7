import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BadgeCommand } from '@civicloop/model';
import { CivicLoop } from '@civicloop/sdk';
import { connectDevice, type DeviceClient } from '@civicloop/sdk/device';
import { tenantKeys } from '@civicloop/gateway';
import { startLayout, type RunningLayout } from './layout.js';

// The layout `npm run cluster` starts (without the demo): a Redis Cluster with replicas,
// mosquitto 2 with dynamic security, two gateway processes sharing its shared subscription.
const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-layout-'));
let layout: RunningLayout;
let redis: Cluster;
const devices: DeviceClient[] = [];

beforeAll(async () => {
  layout = await startLayout({ dir });
  redis = new Cluster(layout.cluster.urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })));
}, 120_000);
afterAll(async () => {
  await Promise.all(devices.map((device) => device.close()));
  redis?.disconnect();
  await layout?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the scaled-out layout (npm run cluster)', () => {
  it('runs the loop across both gateways: a badge on mosquitto is stored once and given its assignment, whichever gateway acts', {
    timeout: 60_000,
  }, async () => {
    const [one, two] = layout.gateways;
    const created = await fetch(`${one!.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${layout.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'LAYOUT', name: 'Layout test' }),
    });
    expect(created.status).toBe(201);
    const { tenant, secretKey } = (await created.json()) as { tenant: { id: string }; secretKey: string };
    const throughOne = new CivicLoop({ baseUrl: one!.url, apiKey: secretKey });
    const throughTwo = new CivicLoop({ baseUrl: two!.url, apiKey: secretKey });
    await throughOne.units.create({ id: 'sanitation', name: 'Sanitation', categories: ['sanitation.bin_overflow'] });
    await throughTwo.staff.create({ id: 'w-1', name: 'Worker One', role: 'worker', unitId: 'sanitation', skills: [] });
    const { device, credential } = await throughTwo.devices.register({ kind: 'badge', name: 'Badge of w-1', staffId: 'w-1', unitId: 'sanitation' });
    expect(credential.username).toBe(`${tenant.id}.${device.id}`);

    // The SDK's device client, on mosquitto with the account a gateway made there.
    const commands: BadgeCommand[] = [];
    const badge = connectDevice({
      url: layout.broker.url,
      tenantId: tenant.id,
      kind: 'badge',
      deviceId: device.id,
      username: credential.username,
      password: credential.password,
      mqtt: { reconnectPeriod: 500 },
    });
    devices.push(badge);
    badge.on('command', (command) => commands.push(command));
    await badge.ready();
    const start = Date.now() - 120_000;
    await Promise.all(Array.from({ length: 200 }, (_, i) => badge.publishPosition({ ts: start + i * 500, lat: 23.1291 + i * 1e-5, lon: 113.2644 })));
    const track = tenantKeys(tenant.id).track(device.id);
    await expect.poll(() => redis.xlen(track), { timeout: 20_000 }).toBe(200);
    // Split between the gateways by mosquitto, each message stored by one of them.
    const stored = await Promise.all(
      [one!, two!].map(
        async (gateway) =>
          (
            (await (await fetch(`${gateway.url}/v1/telemetry/counters`, { headers: { authorization: `Bearer ${secretKey}` } })).json()) as {
              positionsStored?: number;
            }
          ).positionsStored ?? 0,
      ),
    );
    expect(stored[0]! + stored[1]!).toBe(200);
    expect(stored[0]).toBeGreaterThan(0);
    expect(stored[1]).toBeGreaterThan(0);

    // Reported through one gateway, dispatched through the other: the assignment reaches the badge through mosquitto.
    const ticket = await throughOne.tickets.create({
      category: 'sanitation.bin_overflow',
      description: 'Bin overflowing',
      location: { lat: 23.1291, lon: 113.2644 },
    });
    await throughTwo.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await expect.poll(() => commands.map((c) => (c as { number?: string }).number), { timeout: 10_000 }).toContain(ticket.number);
    expect(await redis.xlen(track)).toBe(200);
  });
});
