/**
 * The environment of a gateway process that bench:api and bench:compare drive over HTTP: no
 * telemetry listeners, and no rate limits, since a benchmark sends one key from one address far
 * past any sensible limit.
 */
export function httpGatewayEnv(redisUrl: string, port: number, operatorToken: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    CIVICLOOP_OPERATOR_TOKEN: operatorToken,
    MQTT_ENABLED: 'false',
    JT808_PORT: 'false',
    RATE_LIMIT_PER_KEY: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    CIVICLOOP_MASTER_KEY: 'bench-master-key',
  };
}
