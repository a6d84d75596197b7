import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import {
  BIN_REPORT,
  startClusterGateway,
  startTestCluster,
  type ClusterGateway,
  type TestCluster,
  type TestClusterNode,
} from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from './keys.js';

// A 3-master, 3-replica Redis Cluster (node timeout 2 s), two gateways, and the master holding a
// tenant's slot killed (SIGKILL) while clients create that tenant's tickets through both gateways
// with the SDK's retries. With REDIS_WAIT_REPLICAS=1 the killed node is started again once its
// replica has taken over, as a supervisor would: with one replica per master the promoted master
// has none until then, and its writes' answers wait for one.
let cluster: TestCluster;
let gateways: ClusterGateway[] = [];

beforeAll(async () => {
  cluster = await startTestCluster({ replicas: 1, nodeTimeoutMs: 2000 });
}, 60_000);
afterAll(async () => {
  await closeGateways();
  await cluster?.stop();
});

async function startGateways(redisWaitReplicas: number): Promise<void> {
  for (let i = 0; i < 2; i++) gateways.push(await startClusterGateway(cluster, { redisWaitReplicas, redisWaitTimeoutMs: 500 }));
}

async function closeGateways(): Promise<void> {
  for (const g of gateways) await g.close();
  gateways = [];
}

/** The node that serves `slot` as master, asked of a node other than `except`. */
async function masterOf(slot: number, except?: TestClusterNode): Promise<number | undefined> {
  const asked = cluster.nodes.find((n) => n !== except)!;
  const probe = new Redis(asked.url);
  try {
    const slots = await probe.cluster('SLOTS');
    return slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
  } finally {
    probe.disconnect();
  }
}

describe.each([1, 0])('a Redis master killed during creates, REDIS_WAIT_REPLICAS=%i', (waitReplicas) => {
  beforeAll(() => startGateways(waitReplicas), 30_000);
  afterAll(() => closeGateways());

  it('loses no acknowledged ticket, creates none twice, and both gateways go on without a restart', async () => {
    const issued = await gateways[0]!.app.services.tenants.create({ code: `FAILOVER${waitReplicas}`, name: 'Failover tenant' });
    const slot = Number(await gateways[0]!.client.cluster('KEYSLOT', tenantKeys(issued.tenant.id).tenant));
    const masterPort = await masterOf(slot);
    const victim = cluster.nodes.find((n) => n.port === masterPort)!;
    expect(victim).toBeDefined();

    const acknowledged = new Map<string, { id: string; gateway: number; at: number }>();
    const failures: unknown[] = [];
    let stop = false;
    let next = 0;
    const client = (gateway: number) =>
      new CivicLoop({
        baseUrl: gateways[gateway]!.url,
        apiKey: issued.secretKey,
        maxRetries: 60,
        retryBaseDelayMs: 100,
        retryMaxDelayMs: 500,
        timeoutMs: 5000,
      });
    const worker = async (gateway: number) => {
      const sdk = client(gateway);
      while (!stop) {
        const key = `failover-${next++}`;
        try {
          const ticket = await sdk.tickets.create({ ...BIN_REPORT, description: `Report ${key}` }, { idempotencyKey: key });
          acknowledged.set(key, { id: ticket.id, gateway, at: performance.now() });
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = [0, 1, 0, 1].map((g) => worker(g));
    const waitFor = async (what: () => boolean | Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await what()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    await waitFor(() => acknowledged.size >= 40, 20_000);

    const killedAt = performance.now();
    cluster.kill(victim);
    await waitFor(async () => {
      const port = await masterOf(slot, victim).catch(() => undefined);
      return port !== undefined && port !== victim.port;
    }, 30_000);
    const promotedAt = performance.now();
    expect(await masterOf(slot, victim)).not.toBe(victim.port);
    if (waitReplicas > 0) await cluster.restart(victim);
    const restartedAt = performance.now();
    const afterRestart = () => [...acknowledged.values()].filter((a) => a.at > restartedAt);
    // Both gateways serve the tenant again (after the promotion, or the former master's return), without being restarted.
    await waitFor(() => [0, 1].every((g) => afterRestart().some((a) => a.gateway === g)) && afterRestart().length >= 40, 40_000);
    stop = true;
    await Promise.all(workers);

    const times = [...acknowledged.values()].map((a) => a.at).sort((a, b) => a - b);
    const lastBefore = times.filter((t) => t < killedAt).at(-1)!;
    const firstAfter = times.find((t) => t > killedAt)!;
    console.log(
      `failover with REDIS_WAIT_REPLICAS=${waitReplicas}: replica promoted ${((promotedAt - killedAt) / 1000).toFixed(1)} s after ` +
        `the kill${waitReplicas > 0 ? `, the former master started again at ${((restartedAt - killedAt) / 1000).toFixed(1)} s` : ''}; ` +
        `no create acknowledged for ${((firstAfter - lastBefore) / 1000).toFixed(1)} s; ${acknowledged.size} creates acknowledged, ${failures.length} given up`,
    );
    expect(failures).toEqual([]);
    expect([0, 1].map((g) => afterRestart().filter((a) => a.gateway === g).length).every((n) => n > 0)).toBe(true);

    // Every acknowledged ticket is there, read through either gateway...
    const reader = client(1);
    for (const { id } of acknowledged.values()) expect((await reader.tickets.get(id)).id).toBe(id);
    // ...and none was created twice: one ticket per idempotency key, whatever the retries did.
    const stored = await client(0).tickets.list({ limit: 100 }).toArray();
    const descriptions = stored.map((t) => t.description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
    expect(stored.length).toBe(acknowledged.size);
  }, 120_000);
});
