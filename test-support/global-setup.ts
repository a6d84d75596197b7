import { spawnSync } from 'node:child_process';
// Not part of the published gateway's API: test-support reads the installer from its source.
import { ensureDebianProgram, ensureRedisServer } from '../packages/gateway/src/redis/embedded-redis.js';
import { DEBIAN_PYTHON } from './libsodium-seal.js';

/** Whether `loads()` holds, installing Debian's `packages` for it when it does not and we are root. */
function ensureModules(what: string, packages: string[], loads: () => boolean): boolean {
  if (loads()) return true;
  if (process.getuid?.() !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`${what} missing; installing Debian packages ${packages.join(', ')} with apt-get ...\n`);
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) return false;
  spawnSync('apt-get', ['install', '-y', '-qq', ...new Set(packages)], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return loads();
}

/** Whether Perl can load these modules, installing Debian's packages for them when it cannot and we are root. */
function ensurePerlModules(modules: Record<string, string>): boolean {
  const loads = () => spawnSync('perl', [...Object.keys(modules).map((m) => `-M${m}`), '-e1'], { stdio: 'ignore' }).status === 0;
  return ensureModules(`Perl modules ${Object.keys(modules).join(', ')} are`, Object.values(modules), loads);
}

/**
 * Runs once before any test file: finds redis-server, mosquitto_pub, mosquitto, chromium, Perl's LWP and
 * XML::Simple and Python's PyNaCl, installing them on a
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
  // The Open311 XML test runs a client built as FixMyStreet's is: Perl, LWP and XML::Simple.
  if (!ensurePerlModules({ 'LWP::UserAgent': 'libwww-perl', 'XML::Simple': 'libxml-simple-perl' })) {
    throw new Error(
      'Perl with LWP and XML::Simple is missing: install Debian packages libwww-perl and libxml-simple-perl (the Open311 XML client test uses them).',
    );
  }
  // The OwnTracks encryption tests seal messages with libsodium, as the apps do, through PyNaCl.
  const naclLoads = () => spawnSync(DEBIAN_PYTHON, ['-c', 'import nacl.secret'], { stdio: 'ignore' }).status === 0;
  if (!ensureModules('PyNaCl (libsodium for Python) is', ['python3-nacl'], naclLoads)) {
    throw new Error('PyNaCl is missing: install Debian package python3-nacl (the OwnTracks encryption tests seal with libsodium through it).');
  }
  // The ThingsBoard provisioning test runs the documented MQTT flow with Eclipse Paho's Python client.
  const pahoLoads = () => spawnSync(DEBIAN_PYTHON, ['-c', 'import paho.mqtt.client'], { stdio: 'ignore' }).status === 0;
  if (!ensureModules("Eclipse Paho's MQTT client for Python is", ['python3-paho-mqtt'], pahoLoads)) {
    throw new Error('paho-mqtt is missing: install Debian package python3-paho-mqtt (the ThingsBoard provisioning test uses it).');
  }
}
