import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, startClusterGateway, startTestCluster, type ClusterGateway, type TestCluster } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from './keys.js';

// A tenant's slot moved from one master to another (CLUSTER SETSLOT IMPORTING / MIGRATING, then
// MIGRATE a few keys at a time, as redis-cli --cluster reshard does) while its tickets are being
// created and read. Mid-move a script finds some of its keys gone (TRYAGAIN) or all of them
// (ASK); the gateway must retry those itself: the clients here do not retry at all.
let cluster: TestCluster;
let started: ClusterGateway;

beforeAll(async () => {
  cluster = await startTestCluster();
  started = await startClusterGateway(cluster);
}, 60_000);
afterAll(async () => {
  await started?.close();
  await cluster?.stop();
});

describe("resharding a tenant's slot under load", () => {
  it('answers every create, read and command while the slot moves, and loses nothing', async () => {
    const issued = await started.app.services.tenants.create({ code: 'RESHARD', name: 'Reshard tenant' });
    await started.app.services.directory.createUnit(issued.tenant.id, { id: 'sanitation', name: 'Sanitation' });
    const slot = Number(await started.client.cluster('KEYSLOT', tenantKeys(issued.tenant.id).tenant));
    const nodes = await Promise.all(
      cluster.nodes.map(async (node) => {
        const probe = new Redis(node.url);
        const id = await probe.cluster('MYID');
        return { node, probe, id };
      }),
    );
    const slots = await nodes[0]!.probe.cluster('SLOTS');
    const ownerPort = slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
    const source = nodes.find((n) => n.node.port === ownerPort)!;
    const target = nodes.find((n) => n !== source)!;

    const sdk = new CivicLoop({ baseUrl: started.url, apiKey: issued.secretKey, maxRetries: 0, timeoutMs: 10_000 });
    const created: string[] = [];
    const failures: unknown[] = [];
    let stop = false;
    let count = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const ticket = await sdk.tickets.create({ ...BIN_REPORT, description: `Report ${count++}` });
          created.push(ticket.id);
          const previous = created[Math.floor(Math.random() * created.length)]!;
          expect((await sdk.tickets.get(previous)).id).toBe(previous);
          if (created.length % 5 === 0) await sdk.tickets.dispatch(ticket.id, { unitId: 'sanitation' });
          // A list mid-move shows every ticket it lists, and at least as many as were created before it.
          const before = created.length;
          const page = await sdk.tickets.list({ limit: 20 });
          expect(page.items.length).toBeGreaterThanOrEqual(Math.min(20, before));
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    while (created.length < 30) await new Promise((r) => setTimeout(r, 20));

    // The move, a few keys at a time so that requests run while it is half done.
    await target.probe.cluster('SETSLOT', slot, 'IMPORTING', source.id);
    await source.probe.cluster('SETSLOT', slot, 'MIGRATING', target.id);
    let moved = 0;
    for (;;) {
      const keys = (await source.probe.cluster('GETKEYSINSLOT', slot, 5)) as string[];
      if (keys.length === 0) break;
      await source.probe.call('MIGRATE', '127.0.0.1', target.node.port, '', 0, 5000, 'KEYS', ...keys);
      moved += keys.length;
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const n of [target, source, ...nodes.filter((n) => n !== source && n !== target)]) await n.probe.cluster('SETSLOT', slot, 'NODE', target.id);
    const movedAt = created.length;
    while (created.length < movedAt + 30) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(workers);

    expect(moved).toBeGreaterThan(30);
    expect(failures).toEqual([]);
    // Everything is on the new owner now, and nothing was lost on the way.
    expect(Number(await target.probe.cluster('COUNTKEYSINSLOT', slot))).toBeGreaterThan(0);
    expect(Number(await source.probe.cluster('COUNTKEYSINSLOT', slot))).toBe(0);
    for (const n of nodes) n.probe.disconnect();
    const stored = await sdk.tickets.list({ limit: 100 }).toArray();
    expect(stored.map((t) => t.id).sort()).toEqual([...created].sort());
  }, 120_000);
});
