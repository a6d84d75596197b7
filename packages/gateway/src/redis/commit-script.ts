import type { Cluster, Redis } from 'ioredis';

export interface CommitPlan {
  idem?: { key: string; val: string; ttlMs: number };
  checks?: { key: string; version: number | null }[];
  /** `rev`: the document's revision tag (store/ticket-read-cache.ts), never used for another document. */
  docs?: { key: string; doc: string; version: number; rev: string }[];
  pushes?: { key: string; val: string }[];
  zrem?: { key: string; member: string }[];
  zadd?: { key: string; member: string; score: number }[];
  xadd?: { key: string; maxLen: number; fields: string[] }[];
}

export type CommitResult = { kind: 'ok' } | { kind: 'replay'; value: string } | { kind: 'conflict'; key: string; version: string };

type Client = Redis | Cluster;

/** Longer values are deduplicated by comparison rather than through a Map (see `v` below). */
const LONG_VALUE = 128;

/**
 * Encodes a plan with key names into the script's KEYS and op list, and runs it (the script and
 * its op list: redis/scripts/commit.ts; registered with the others by registerScripts).
 */
export async function commit(redis: Client, plan: CommitPlan): Promise<CommitResult> {
  const keys: string[] = [];
  const keySlot = new Map<string, number>();
  const k = (key: string) => {
    let index = keySlot.get(key);
    if (index === undefined) {
      keys.push(key);
      index = keys.length;
      keySlot.set(key, index);
    }
    return String(index);
  };
  // ARGV[1] is the op list, one string; the values it refers to follow it, from ARGV[2].
  const ops: string[] = [];
  // A value that repeats is sent once: a command's event JSON goes to its history and to its
  // stream entry, a ticket's id to each of its index entries. Short values are found through a
  // Map; long ones (documents, events) among the few long ones seen, by `===`, because a Map
  // would hash every character of each, while `===` answers at once for the same string (as the
  // event's repeat is) or one of another length.
  const values: string[] = [];
  const valueSlot = new Map<string, number>();
  const longSlots: number[] = [];
  const v = (value: string) => {
    const long = value.length > LONG_VALUE;
    let index = long ? longSlots.find((slot) => values[slot - 2] === value) : valueSlot.get(value);
    if (index === undefined) {
      values.push(value);
      index = values.length + 1;
      if (long) longSlots.push(index);
      else valueSlot.set(value, index);
    }
    return String(index);
  };
  if (plan.idem) ops.push('I', k(plan.idem.key), v(plan.idem.val), String(plan.idem.ttlMs));
  for (const c of plan.checks ?? []) ops.push('C', k(c.key), c.version === null ? '-' : String(c.version));
  for (const d of plan.docs ?? []) ops.push('D', k(d.key), v(d.doc), String(d.version), d.rev);
  for (const p of plan.pushes ?? []) ops.push('P', k(p.key), v(p.val));
  for (const z of plan.zrem ?? []) ops.push('R', k(z.key), v(z.member));
  for (const z of plan.zadd ?? []) ops.push('A', k(z.key), String(z.score), v(z.member));
  for (const x of plan.xadd ?? []) {
    ops.push('X', k(x.key), String(x.maxLen), String(x.fields.length));
    for (const field of x.fields) ops.push(v(field));
  }
  const reply = await redis.civicloopCommit(keys.length, ...keys, ops.join(' '), ...values);
  const [kind, ...rest] = reply;
  if (kind === 'replay') return { kind: 'replay', value: rest[0] ?? '' };
  if (kind === 'conflict') return { kind: 'conflict', key: keys[Number(rest[0]) - 1] ?? '', version: rest[1] ?? '' };
  return { kind: 'ok' };
}
