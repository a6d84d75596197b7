import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findProgram, startRedisServer, type RunningRedis } from '@civicloop/gateway';

export interface RedisClusterOptions {
  /** Each node's data goes in a directory of its own under this one. */
  dir: string;
  /** Replicas per master (there are three masters). Default 1. */
  replicas?: number;
  /** cluster-node-timeout: how long a node may be silent before the others fail it over. Default 5000. */
  nodeTimeoutMs?: number;
}

export interface RunningRedisCluster {
  /** Every node's URL: what REDIS_URL takes with REDIS_CLUSTER=true. */
  urls: string[];
  nodes: RunningRedis[];
  stop(): Promise<void>;
}

/** Three masters (and their replicas) in cluster mode on free ports, slots given out by `redis-cli --cluster create`. */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RunningRedisCluster> {
  const replicas = options.replicas ?? 1;
  const redisCli = findProgram('redis-cli');
  if (!redisCli) throw new Error('redis-cli is missing: install Debian package redis-tools (it comes with redis-server).');
  const nodes: RunningRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const dir = path.join(options.dir, `node-${i + 1}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      nodes.push(
        await startRedisServer({
          dir,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 5000),
          ],
        }),
      );
    }
    const created = spawnSync(
      redisCli,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    // Until every node agrees the cluster is up and every replica has synchronised.
    for (const node of nodes) {
      const probe = new Redis(node.url);
      try {
        for (let i = 0; ; i++) {
          const [info, replication] = await Promise.all([probe.cluster('INFO'), probe.info('replication')]);
          if (info.includes('cluster_state:ok') && (!replication.includes('role:slave') || replication.includes('master_link_status:up'))) break;
          if (i > 600) throw new Error(`Redis Cluster node ${node.url} did not come up within 30 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        probe.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: nodes.map((n) => n.url), nodes, stop };
}
