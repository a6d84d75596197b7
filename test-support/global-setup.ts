import { ensureDebianProgram, ensureRedisServer } from '@civicloop/gateway';

/**
 * Runs once before any test file: finds redis-server, mosquitto_pub, mosquitto and chromium, installing them on a
 * fresh Debian machine (as root) so that parallel test files never race each other into apt-get.
 */
export default function setup(): void {
  ensureRedisServer();
  // The telemetry tests publish with a real third-party client.
  if (!ensureDebianProgram('mosquitto_pub', 'mosquitto-clients')) {
    throw new Error('mosquitto_pub is missing: install Debian package mosquitto-clients (the telemetry tests use it).');
  }
  // The external-broker tests run a real mosquitto 2 with its dynamic security plugin, managed with mosquitto_ctrl.
  if (!ensureDebianProgram('mosquitto', 'mosquitto') || !ensureDebianProgram('mosquitto_ctrl', 'mosquitto')) {
    throw new Error('mosquitto is missing: install Debian package mosquitto (the external-broker tests run it).');
  }
  // The widget tests drive Debian's Chromium through playwright-core (no browser download).
  if (!ensureDebianProgram('chromium', 'chromium')) {
    throw new Error('chromium is missing: install Debian package chromium (the widget tests run in it).');
  }
}
