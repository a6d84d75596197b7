import { ensureRedisServer } from '@civicloop/gateway';

/**
 * Runs once before any test file: finds redis-server, installing it on a fresh Debian machine
 * (as root) so that parallel test files never race each other into apt-get.
 */
export default function setup(): void {
  ensureRedisServer();
}
