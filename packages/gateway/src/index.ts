export { buildApp, type AppOptions, type GatewayApp } from './app.js';
export { loadConfig, SETTINGS, type GatewayConfig } from './core/config.js';
export { startGateway, type RunningGateway, type StartOptions } from './server.js';
export { connectRedis } from './redis/connect.js';
// A Lua script registered on a client as the gateway registers its own (the benchmarks' floors use it, so that they send scripts the same way).
export { defineScript } from './redis/define-script.js';
// The embedded redis-server the CLI runs, for programs that start one the same way (the scaled-out example, the benchmarks).
export { startRedisServer, ensureRedisServer, findProgram, freePort, type RunningRedis } from './redis/embedded-redis.js';
export { startRedisCluster, type LocalClusterNode, type LocalClusterOptions, type LocalRedisCluster } from './redis/local-cluster.js';
export { tenantKeys } from './redis/keys.js';
export { OPEN_INDEXES } from './store/index-builds.js';
export { seedDemo, describeDemo, type DemoTenant } from './demo.js';
export { describeGateway } from './banner.js';
export type { Services } from './core/services.js';
export { attachTelemetry } from './attach-telemetry.js';
export type { RunningTelemetry, TelemetryHooks } from './telemetry/start.js';
export { findNearestWorker, type NearestQuery, type WorkerCandidate } from './store/nearest-worker.js';
export { describeAccess } from './access-table.js';
