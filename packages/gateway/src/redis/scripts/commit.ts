import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * One Lua script performs every write to existing tickets (new ones have create-script.ts), so a write is all-or-nothing and version checks
 * and writes cannot interleave with another gateway's. Every key is declared in KEYS, so Redis
 * Cluster can route the script (all keys of a plan share the tenant hash tag, hence one slot).
 *
 * The plan is an op list of op codes and numbers in ARGV[1], one string separated by spaces (no
 * JSON to encode or decode), followed by the values it refers to by ARGV index, so strings
 * (documents, events, members) travel once and unescaped. One string rather than one argument
 * per op: ioredis copies and encodes every argument of a command one by one, which cost a
 * transition's gateway more than the op list itself did. Ops are applied in list order: I and C
 * come first, so a refusal writes nothing. k is a KEYS index, v an ARGV index.
 *   I k v ttl              if KEYS[k] exists return {'replay', value}; at the end SET it to ARGV[v] PX ttl
 *   C k version            HGET KEYS[k] 'v' must equal version ('-' = the hash must not exist)
 *   D k v version rev      HSET KEYS[k] doc ARGV[v] v version r rev (rev: the document's revision tag, no spaces)
 *   P k v                  RPUSH KEYS[k] ARGV[v]
 *   R k v                  ZREM KEYS[k] ARGV[v]
 *   A k score v            ZADD KEYS[k] score ARGV[v]
 *   X k maxlen count v...  XADD KEYS[k] MAXLEN ~ maxlen * with fields ARGV[v...]
 * Returns {'ok', stream ids...}, {'replay', value} or {'conflict', k, version}; callers need only the kind.
 */
export const commit: RedisScript = {
  name: 'civicloopCommit',
  lua: `
local V = ARGV
local A = {}
for word in string.gmatch(V[1], '%S+') do A[#A + 1] = word end
local i = 1
local idemKey, idemValue, idemTtl
local out = {'ok'}
local n = #A
while i <= n do
  local op = A[i]
  -- Most frequent first: a write is one D, one P, some A and R, one X.
  if op == 'A' then
    redis.call('ZADD', KEYS[tonumber(A[i + 1])], A[i + 2], V[tonumber(A[i + 3])])
    i = i + 4
  elseif op == 'D' then
    redis.call('HSET', KEYS[tonumber(A[i + 1])], 'doc', V[tonumber(A[i + 2])], 'v', A[i + 3], 'r', A[i + 4])
    i = i + 5
  elseif op == 'P' then
    redis.call('RPUSH', KEYS[tonumber(A[i + 1])], V[tonumber(A[i + 2])])
    i = i + 3
  elseif op == 'X' then
    local count = tonumber(A[i + 3])
    local fields = {}
    for f = 1, count do fields[f] = V[tonumber(A[i + 3 + f])] end
    out[#out + 1] = redis.call('XADD', KEYS[tonumber(A[i + 1])], 'MAXLEN', '~', A[i + 2], '*', unpack(fields))
    i = i + 4 + count
  elseif op == 'R' then
    redis.call('ZREM', KEYS[tonumber(A[i + 1])], V[tonumber(A[i + 2])])
    i = i + 3
  elseif op == 'C' then
    local v = redis.call('HGET', KEYS[tonumber(A[i + 1])], 'v') or ''
    local expected = A[i + 2]
    if expected == '-' then expected = '' end
    if v ~= expected then return {'conflict', A[i + 1], v} end
    i = i + 3
  elseif op == 'I' then
    idemKey, idemValue, idemTtl = KEYS[tonumber(A[i + 1])], V[tonumber(A[i + 2])], A[i + 3]
    local existing = redis.call('GET', idemKey)
    if existing then return {'replay', existing} end
    i = i + 4
  else
    return redis.error_reply('civicloop commit: unknown op ' .. tostring(op))
  end
end
if idemKey then redis.call('SET', idemKey, idemValue, 'PX', idemTtl) end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopCommit(numKeys: number, ...args: string[]): Result<string[], Context>;
  }
}
