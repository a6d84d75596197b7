export * from './schemas.js';
export * from './formats.js';
export * from './topics.js';
export * from './decode.js';
export * from './provisioning.js';
export * from './photos.js';
