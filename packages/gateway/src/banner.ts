import type { RunningGateway } from './server.js';

/** A URL with its password replaced, for printing. */
function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}

/** What a started gateway prints: where its API, health, MQTT, JT/T 808 and Redis are. */
export function describeGateway(gateway: RunningGateway): string[] {
  const { config } = gateway;
  return [
    '',
    `CivicLoop gateway listening on ${gateway.url}`,
    `  OpenAPI:   ${gateway.url}/v1/openapi.json`,
    `  Health:    ${gateway.url}/v1/health`,
    config.mqttBrokerUrl
      ? `  MQTT:      external broker ${redactUrl(config.mqttBrokerUrl)} as ${gateway.services.telemetry?.externalBroker ?? '?'}, shared ` +
        `subscription group ${config.mqttBrokerShareGroup}${config.mqttBrokerDynsec ? ', device accounts in its dynamic security plugin' : ''}`
      : gateway.mqtt
        ? `  MQTT:      mqtt://${config.host}:${gateway.mqtt.tcpPort} and ws://${config.host}:${gateway.mqtt.wsPort} (devices: POST /v1/devices)`
        : '  MQTT:      disabled (MQTT_ENABLED=false)',
    gateway.jt808Port !== undefined
      ? `  JT/T 808:  tcp://${config.host}:${gateway.jt808Port} (terminals: POST /v1/devices with protocol "jt808")`
      : '  JT/T 808:  disabled (JT808_PORT=0)',
    gateway.embeddedRedis
      ? `  Redis:     embedded ${gateway.embeddedRedis.url} (AOF on, data in ${gateway.embeddedRedis.dir})`
      : `  Redis:     ${config.redisUrl}`,
  ];
}
