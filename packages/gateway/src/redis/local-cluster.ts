import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findProgram, startRedisServer, type RunningRedis } from './embedded-redis.js';

export interface LocalClusterOptions {
  /** Each node's data goes in a directory of its own under this one (kept); absent: temporary directories, removed on stop. */
  dir?: string;
  /** Replicas per master (there are three masters). Default 0. */
  replicas?: number;
  /** cluster-node-timeout: how long a node may be silent before the others fail it over. Default 5000. */
  nodeTimeoutMs?: number;
}

export interface LocalClusterNode {
  port: number;
  url: string;
  /** The running server; replaced when the node is restarted. */
  server: RunningRedis;
}

export interface LocalRedisCluster {
  /** Every node's URL: what REDIS_URL takes with REDIS_CLUSTER=true. */
  urls: string[];
  nodes: LocalClusterNode[];
  /** Kills a node at once (SIGKILL), as a crashed machine would go. */
  kill(node: LocalClusterNode): void;
  /** Starts a killed node again on its port and data: it rejoins the cluster (a former master as a replica). */
  restart(node: LocalClusterNode): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster on this machine: three masters (and their replicas) in cluster mode on free
 * ports, slots given out by `redis-cli --cluster create`, resolved once every node says the
 * cluster is up and every replica has synchronised. For `npm run cluster` (examples/scaled-out)
 * and the tests that need a real cluster.
 */
export async function startRedisCluster(options: LocalClusterOptions = {}): Promise<LocalRedisCluster> {
  const replicas = options.replicas ?? 0;
  const redisCli = findProgram('redis-cli');
  if (!redisCli) throw new Error('redis-cli is missing: install Debian package redis-tools (it comes with redis-server).');
  const argsFor = (dir: string) => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    path.join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 5000),
  ];
  const nodes: LocalClusterNode[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.server.stop()));
    if (!options.dir) for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      let dir: string;
      if (options.dir) {
        dir = path.join(options.dir, `node-${i + 1}`);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      } else dir = mkdtempSync(path.join(tmpdir(), 'civicloop-cluster-'));
      dirs.push(dir);
      const server = await startRedisServer({ dir, extraArgs: argsFor(dir) });
      nodes.push({ port: server.port, url: server.url, server });
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
  return {
    urls: nodes.map((n) => n.url),
    nodes,
    kill(node) {
      node.server.process.kill('SIGKILL');
    },
    async restart(node) {
      const dir = dirs[nodes.indexOf(node)]!;
      node.server = await startRedisServer({ dir, port: node.port, extraArgs: argsFor(dir) });
    },
    stop,
  };
}
