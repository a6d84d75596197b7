// What bench:ingest and bench:ingest-profile share: the QoS 1 load's size and how the gateway
// is started for it, so that the profile looks into the load the benchmark measures.

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** BENCH_DEVICES devices, BENCH_MESSAGES positions each, INFLIGHT unacknowledged per device. */
export const ingestLoad = {
  devices: env('BENCH_DEVICES', 50),
  messages: env('BENCH_MESSAGES', 1000),
  inflight: env('INFLIGHT', 20),
};

/** BENCH_NODE_ARGS: node options for every broker measured, alike. */
export const brokerNodeArgs = (): string[] => process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** The gateway's environment under load: no rate limits, an operator token to make the tenant with. */
export function loadedGatewayEnv(ports: { redisUrl: string; http: number; mqtt: number; ws: number; jt808: number | 'false' }): Record<string, string> {
  return {
    REDIS_URL: ports.redisUrl,
    PORT: String(ports.http),
    MQTT_PORT: String(ports.mqtt),
    MQTT_WS_PORT: String(ports.ws),
    JT808_PORT: String(ports.jt808),
    LOG_LEVEL: 'warn',
    CIVICLOOP_OPERATOR_TOKEN: 'bench-op',
    CIVICLOOP_MASTER_KEY: 'bench-master',
    RATE_LIMIT_PER_KEY: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    // Every simulated device connects from 127.0.0.1, as devices behind one carrier NAT would.
    MQTT_MAX_PENDING_PER_ADDRESS: '0',
  };
}
