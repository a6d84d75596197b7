export { buildApp, type AppOptions, type GatewayApp } from './app.js';
export { loadConfig, SETTINGS, type GatewayConfig } from './config.js';
export { startGateway, type RunningGateway, type StartOptions } from './server.js';
export { connectRedis } from './redis/connect.js';
export { startRedisServer, ensureRedisServer, findRedisServer, freePort, type RunningRedis } from './redis/embedded-redis.js';
export { tenantKeys, globalKeys } from './redis/keys.js';
export { seedDemo, demoToken, type DemoTenant } from './demo.js';
export type { Services } from './services.js';
