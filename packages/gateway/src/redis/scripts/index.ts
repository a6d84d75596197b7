import type { Cluster, Redis } from 'ioredis';
import { defineScript } from '../define-script.js';
import { blackSpotNote } from './black-spot-note.js';
import { commit } from './commit.js';
import { countBelow } from './count-below.js';
import { hashDeleteIf } from './hash-delete-if.js';
import { indexOpen } from './index-open.js';
import { indexPrune } from './index-prune.js';
import { createTicket } from './create-ticket.js';
import { leaseClaim } from './lease-claim.js';
import { nearestWorkers } from './nearest-workers.js';
import { outboxPush } from './outbox-push.js';
import { positions } from './positions.js';
import { raiseAlert } from './raise-alert.js';
import { readTicketWith } from './read-ticket-with.js';
import { readTickets } from './read-tickets.js';
import { statsApply } from './stats-apply.js';
import { timersSettle } from './timers-settle.js';
import { webhookEnqueue } from './webhook-enqueue.js';
import { markPresent, workforceSample } from './workforce.js';
import { writeCategory } from './write-category.js';
import type { RedisScript } from './script.js';

/**
 * Every Lua script the gateway runs, in one place. Each file's header names its KEYS and ARGV;
 * every key a script touches comes in KEYS, built by the caller from the key table
 * (redis/keys.ts), never put together inside the script.
 */
export const SCRIPTS: readonly RedisScript[] = [
  commit,
  createTicket,
  writeCategory,
  leaseClaim,
  timersSettle,
  webhookEnqueue,
  statsApply,
  markPresent,
  workforceSample,
  blackSpotNote,
  positions,
  raiseAlert,
  nearestWorkers,
  readTickets,
  readTicketWith,
  outboxPush,
  hashDeleteIf,
  indexOpen,
  indexPrune,
  countBelow,
];

const registered = new WeakSet<Redis | Cluster>();

/**
 * Registers every script on a client, once: whatever part of the gateway gets the client first
 * (the app, a store or loop a test builds alone) makes all of them available.
 */
export function registerScripts(redis: Redis | Cluster): void {
  if (registered.has(redis)) return;
  registered.add(redis);
  for (const script of SCRIPTS) defineScript(redis, script.name, script.lua);
}
