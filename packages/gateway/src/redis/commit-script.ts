import type { ClientContext, Cluster, Redis, Result } from 'ioredis';

/**
 * One Lua script performs every ticket write, so a write is all-or-nothing and version checks
 * and writes cannot interleave with another gateway's. The plan names keys by their index in
 * KEYS, so Redis Cluster can route the script (all keys of a plan share the tenant hash tag).
 *
 * Plan fields, applied in this order:
 *   idem    {k, val, ttl}: if KEYS[k] exists, return {'replay', value} and write nothing;
 *                          otherwise SET it to val with ttl ms at the end.
 *   checks  [{k, v}]: HGET KEYS[k] 'v' must equal v ('' = the hash must not exist).
 *   seq     {k, field, numbers, ticket, prefix, id}: allocate the next ticket number of the day.
 *   docs    [{k, doc, v}]: HSET doc and version.
 *   pushes  [{k, val}]: RPUSH (history).
 *   zrem / zadd [{k, m, s}]: index maintenance.
 *   xadd    [{k, max, f}]: XADD with approximate MAXLEN; field 'n' is filled with the new number
 *                          when a seq step ran and the entry has n = ''.
 * Returns {'ok', number or '', stream ids...} or {'conflict', key index, current version}.
 */
const LUA = `
local plan = cjson.decode(ARGV[1])
if plan.idem then
  local existing = redis.call('GET', KEYS[plan.idem.k])
  if existing then return {'replay', existing} end
end
for _, c in ipairs(plan.checks or {}) do
  local v = redis.call('HGET', KEYS[c.k], 'v')
  if not v then v = '' end
  if v ~= c.v then return {'conflict', tostring(c.k), v} end
end
local number = ''
if plan.seq then
  local s = plan.seq
  local n = redis.call('HINCRBY', KEYS[s.k], s.field, 1)
  number = s.prefix .. string.format('%04d', n)
  redis.call('HSET', KEYS[s.numbers], number, s.id)
  redis.call('HSET', KEYS[s.ticket], 'number', number)
end
for _, d in ipairs(plan.docs or {}) do
  redis.call('HSET', KEYS[d.k], 'doc', d.doc, 'v', d.v)
end
for _, p in ipairs(plan.pushes or {}) do
  redis.call('RPUSH', KEYS[p.k], p.val)
end
for _, z in ipairs(plan.zrem or {}) do
  redis.call('ZREM', KEYS[z.k], z.m)
end
for _, z in ipairs(plan.zadd or {}) do
  redis.call('ZADD', KEYS[z.k], z.s, z.m)
end
local out = {'ok', number}
for _, x in ipairs(plan.xadd or {}) do
  local fields = x.f
  for i = 1, #fields, 2 do
    if fields[i] == 'n' and fields[i + 1] == '' then fields[i + 1] = number end
  end
  out[#out + 1] = redis.call('XADD', KEYS[x.k], 'MAXLEN', '~', x.max, '*', unpack(fields))
end
if plan.idem then
  redis.call('SET', KEYS[plan.idem.k], plan.idem.val, 'PX', plan.idem.ttl)
end
return out
`;

export interface CommitPlan {
  idem?: { key: string; val: string; ttlMs: number };
  checks?: { key: string; version: number | null }[];
  seq?: { key: string; field: string; numbersKey: string; ticketKey: string; prefix: string; id: string };
  docs?: { key: string; doc: string; version: number }[];
  pushes?: { key: string; val: string }[];
  zrem?: { key: string; member: string }[];
  zadd?: { key: string; member: string; score: number }[];
  xadd?: { key: string; maxLen: number; fields: string[] }[];
}

export type CommitResult =
  | { kind: 'ok'; number: string; streamIds: string[] }
  | { kind: 'replay'; value: string }
  | { kind: 'conflict'; key: string; version: string };

type Client = Redis | Cluster;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopCommit(numKeys: number, ...args: string[]): Result<string[], Context>;
  }
}

export function defineCommitScript(redis: Client): void {
  redis.defineCommand('civicloopCommit', { lua: LUA });
}

/** Turns a plan with key names into the indexed form the script takes, and runs it. */
export async function commit(redis: Client, plan: CommitPlan): Promise<CommitResult> {
  const keys: string[] = [];
  const slot = new Map<string, number>();
  const k = (key: string) => {
    let index = slot.get(key);
    if (index === undefined) {
      keys.push(key);
      index = keys.length;
      slot.set(key, index);
    }
    return index;
  };
  const wire: Record<string, unknown> = {};
  if (plan.idem) wire.idem = { k: k(plan.idem.key), val: plan.idem.val, ttl: String(plan.idem.ttlMs) };
  if (plan.checks?.length) wire.checks = plan.checks.map((c) => ({ k: k(c.key), v: c.version === null ? '' : String(c.version) }));
  if (plan.seq) {
    const s = plan.seq;
    wire.seq = { k: k(s.key), field: s.field, numbers: k(s.numbersKey), ticket: k(s.ticketKey), prefix: s.prefix, id: s.id };
  }
  if (plan.docs?.length) wire.docs = plan.docs.map((d) => ({ k: k(d.key), doc: d.doc, v: String(d.version) }));
  if (plan.pushes?.length) wire.pushes = plan.pushes.map((p) => ({ k: k(p.key), val: p.val }));
  if (plan.zrem?.length) wire.zrem = plan.zrem.map((z) => ({ k: k(z.key), m: z.member }));
  if (plan.zadd?.length) wire.zadd = plan.zadd.map((z) => ({ k: k(z.key), m: z.member, s: String(z.score) }));
  if (plan.xadd?.length) wire.xadd = plan.xadd.map((x) => ({ k: k(x.key), max: String(x.maxLen), f: x.fields }));
  const reply = await redis.civicloopCommit(keys.length, ...keys, JSON.stringify(wire));
  const [kind, ...rest] = reply;
  if (kind === 'replay') return { kind: 'replay', value: rest[0] ?? '' };
  if (kind === 'conflict') return { kind: 'conflict', key: keys[Number(rest[0]) - 1] ?? '', version: rest[1] ?? '' };
  return { kind: 'ok', number: rest[0] ?? '', streamIds: rest.slice(1) };
}
