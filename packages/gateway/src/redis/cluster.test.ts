import type { Cluster } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { CivicLoop, signToken } from '@civicloop/sdk';
import { BIN_REPORT, startClusterGateway, startTestCluster, type ClusterGateway, type TestCluster } from '@civicloop/test-support/gateway-harness.js';
import type { GatewayApp } from '../app.js';
import { IndexBuilds, OPEN_INDEXES } from '../store/index-builds.js';
import { tenantKeys } from './keys.js';

// The same code on a three-master Redis Cluster: every multi-key script must stay in one slot.
let cluster: TestCluster;
let started: ClusterGateway;
let gateway: GatewayApp;
let client: Cluster;
let url: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  started = await startClusterGateway(cluster);
  ({ app: gateway, client, url } = started);
});
afterAll(async () => {
  await started?.close();
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('runs the loop, merges, lists and streams for tenants that live on different nodes', async () => {
    const slots = new Set<number>();
    const tenants = [];
    for (let i = 0; i < 6; i++) {
      const issued = await gateway.services.tenants.create({ code: `CL${i}`, name: `Cluster tenant ${i}` });
      tenants.push(issued);
      slots.add(Number(await client.cluster('KEYSLOT', tenantKeys(issued.tenant.id).tenant)));
    }
    expect(slots.size).toBeGreaterThan(1);

    for (const issued of tenants.slice(0, 3)) {
      const tenantId = issued.tenant.id;
      await gateway.services.directory.createUnit(tenantId, { id: 'sanitation', name: 'Sanitation' });
      await gateway.services.directory.createStaff(tenantId, { id: 'w-1', name: 'W', role: 'worker', unitId: 'sanitation' });
      const server = new CivicLoop({ baseUrl: url, apiKey: issued.secretKey });
      const worker = new CivicLoop({ baseUrl: url, token: await signToken({ secretKey: issued.secretKey, sub: 'w-1', role: 'worker', unitId: 'sanitation' }) });
      let opened!: () => void;
      const open = new Promise<void>((resolve) => (opened = resolve));
      const subscription = server.subscribe({ onOpen: () => opened() });
      const seen: string[] = [];
      const consumer = (async () => {
        for await (const event of subscription) {
          seen.push(event.event.type);
          if (seen.length === 9) break;
        }
      })();
      // Listening before the first create, so none of its events is missed.
      await open;

      const a = await server.tickets.create(BIN_REPORT, { idempotencyKey: `cluster-${tenantId}` });
      const again = await server.tickets.create(BIN_REPORT, { idempotencyKey: `cluster-${tenantId}` });
      expect(again.id).toBe(a.id);
      await server.tickets.dispatch(a.id, { unitId: 'sanitation', assigneeId: 'w-1' });
      await worker.tickets.accept(a.id);
      await worker.tickets.arrive(a.id);
      await worker.tickets.resolve(a.id, { photos: [{ ref: 'https://photos.example.org/after.jpg' }] });
      await server.tickets.verify(a.id, { outcome: 'pass' });
      const b = await server.tickets.create(BIN_REPORT);
      await server.tickets.merge(b.id, { into: a.id });

      await consumer;
      subscription.close();
      expect(seen).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved', 'verified', 'reported', 'merged', 'follower_added']);
      const closed = await server.tickets.list({ status: 'closed' });
      expect(closed.items.map((t) => t.id)).toEqual([a.id]);
      expect((await server.tickets.history(a.id)).map((e) => e.type)).toEqual([
        'reported',
        'dispatched',
        'accepted',
        'arrived',
        'resolved',
        'verified',
        'follower_added',
      ]);
      expect((await server.tickets.get(b.id)).status).toBe('duplicate');
    }
  });

  it("builds each assignee's and unit's open index over tickets stored before them, for tenants on different nodes", async () => {
    const slots = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const issued = await gateway.services.tenants.create({ code: `IX${i}`, name: `Index tenant ${i}` });
      const tenantId = issued.tenant.id;
      const keys = tenantKeys(tenantId);
      slots.add(Number(await client.cluster('KEYSLOT', keys.tenant)));
      await gateway.services.directory.createUnit(tenantId, { id: 'sanitation', name: 'Sanitation' });
      await gateway.services.directory.createStaff(tenantId, { id: 'w-1', name: 'W', role: 'worker', unitId: 'sanitation' });
      const server = new CivicLoop({ baseUrl: url, apiKey: issued.secretKey });
      const jobs = [];
      for (let j = 0; j < 3; j++) {
        const ticket = await server.tickets.create(BIN_REPORT);
        jobs.push((await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' })).ticket.id);
      }
      // As stored by a version before the index: none of it, no build recorded.
      await client.del(keys.index.assigneeOpen('w-1'));
      await client.del(keys.index.unitOpen('sanitation'));
      await client.hdel(keys.index.built, ...Object.keys(OPEN_INDEXES));
      // And an entry an older gateway left: a ticket that is no longer there.
      await client.zadd(keys.index.assigneeOpen('w-1'), 1, 't_gone');
      expect(await new IndexBuilds(client).build(tenantId, new Date())).toEqual({ indexed: 6, pruned: 1 });
      expect((await client.zrange(keys.index.assigneeOpen('w-1'), 0, -1)).sort()).toEqual(jobs.sort());
      expect((await client.zrange(keys.index.unitOpen('sanitation'), 0, -1)).sort()).toEqual(jobs.sort());
      expect(await client.hlen(keys.index.built)).toBe(2);
    }
    expect(slots.size).toBeGreaterThan(1);
  });

  it('serves concurrent load from two gateways without a request failing because of how commands are batched (ioredis#2109)', async () => {
    // A second gateway on the same cluster, with its own connection.
    const second = await startClusterGateway(cluster);
    const secondUrl = second.url;
    try {
      // Tenants whose keys live on every master, so each batch mixes slots of several nodes.
      const tenants: Awaited<ReturnType<typeof gateway.services.tenants.create>>[] = [];
      const nodes = new Set<string>();
      for (let i = 0; nodes.size < 3 || tenants.length < 6; i++) {
        const issued = await gateway.services.tenants.create({ code: `LD${i}`, name: `Load ${i}` });
        await gateway.services.directory.createUnit(issued.tenant.id, { id: 'u', name: 'U' });
        const slot = Number(await client.cluster('KEYSLOT', tenantKeys(issued.tenant.id).tenant));
        const owner = (client.slots[slot] ?? []).join(',');
        nodes.add(owner);
        tenants.push(issued);
      }
      const failures: string[] = [];
      const created: string[][] = tenants.map(() => []);
      // No retries: any failed request shows.
      const clients = tenants.flatMap((t) =>
        [url, secondUrl].map((base) => ({ t, sdk: new CivicLoop({ baseUrl: base, apiKey: t.secretKey, maxRetries: 0 }) })),
      );
      await Promise.all(
        clients.map(async ({ t, sdk }) => {
          const index = tenants.indexOf(t);
          await Promise.all(
            Array.from({ length: 25 }, async (_, n) => {
              try {
                const ticket = await sdk.tickets.create({ ...BIN_REPORT, location: { lat: 23.1 + n / 1000, lon: 113.3 } });
                created[index]!.push(ticket.id);
                await sdk.tickets.dispatch(ticket.id, { unitId: 'u' });
                await sdk.tickets.get(ticket.id);
              } catch (error) {
                failures.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
              }
            }),
          );
        }),
      );
      expect(failures).toEqual([]);
      for (const [i, t] of tenants.entries()) {
        const sdk = new CivicLoop({ baseUrl: url, apiKey: t.secretKey });
        const page = await sdk.tickets.list({ status: 'dispatched', limit: 100 });
        expect(page.items.map((x) => x.id).sort()).toEqual(created[i]!.sort());
      }
    } finally {
      await second.close();
    }
  });

  it('sends an assignment given through one gateway to a badge connected to the other (the command notice crosses the cluster)', async () => {
    const pair: ClusterGateway[] = [];
    try {
      for (let i = 0; i < 2; i++) pair.push(await startClusterGateway(cluster, {}, { telemetry: true }));
      const [first, second] = pair as [ClusterGateway, ClusterGateway];
      const issued = await first.app.services.tenants.create({ code: 'CMDS', name: 'Commands tenant' });
      await first.app.services.directory.createUnit(issued.tenant.id, { id: 'sanitation', name: 'Sanitation' });
      await first.app.services.directory.createStaff(issued.tenant.id, { id: 'w-1', name: 'W', role: 'worker', unitId: 'sanitation' });
      const sdk = new CivicLoop({ baseUrl: first.url, apiKey: issued.secretKey });
      const { device, credential } = await sdk.devices.register({ kind: 'badge', name: 'Badge of w-1', staffId: 'w-1', unitId: 'sanitation' });
      const badge = await mqtt.connectAsync(`mqtt://127.0.0.1:${second.telemetry!.tcpPort}`, {
        username: credential.username,
        password: credential.password,
        reconnectPeriod: 0,
      });
      try {
        const received = new Promise<{ ticketId: string }>((resolve) =>
          badge.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()) as { ticketId: string })),
        );
        await badge.subscribeAsync(nativeTopic(issued.tenant.id, 'badge', device.id, 'cmd'), { qos: 1 });
        const ticket = await sdk.tickets.create(BIN_REPORT);
        await sdk.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
        expect((await received).ticketId).toBe(ticket.id);
      } finally {
        await badge.endAsync();
      }
    } finally {
      for (const g of pair) await g.close();
    }
  });

  it('keeps compare-and-set exact: one of two racing commands wins', async () => {
    const issued = await gateway.services.tenants.create({ code: 'RACE', name: 'Race' });
    await gateway.services.directory.createUnit(issued.tenant.id, { id: 'u', name: 'U' });
    const server = new CivicLoop({ baseUrl: url, apiKey: issued.secretKey, maxRetries: 0 });
    const ticket = await server.tickets.create(BIN_REPORT);
    const results = await Promise.allSettled([server.tickets.dispatch(ticket.id, { unitId: 'u' }), server.tickets.reject(ticket.id, { reason: 'void' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await server.tickets.history(ticket.id)).length).toBe(2);
  });
});
