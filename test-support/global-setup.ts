import { ensureDebianProgram, ensureRedisServer } from '@civicloop/gateway';

/**
 * Runs once before any test file: finds redis-server and mosquitto_pub, installing them on a
 * fresh Debian machine (as root) so that parallel test files never race each other into apt-get.
 */
export default function setup(): void {
  ensureRedisServer();
  // The telemetry tests publish with a real third-party client.
  if (!ensureDebianProgram('mosquitto_pub', 'mosquitto-clients')) {
    throw new Error('mosquitto_pub is missing: install Debian package mosquitto-clients (the telemetry tests use it).');
  }
}
