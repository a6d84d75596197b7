import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Reads a ticket's document and number and, beside them, one field of each further hash (a
 * dispatch's unit and assignee), in one command. As two commands, the second's ioredis command
 * object, promise and reply cost a dispatch or reassignment about as much gateway CPU as
 * reading the ticket itself (bench:api's transition); read together they are also one snapshot.
 *
 * KEYS: the ticket key, then one hash key per record (all one tenant's, so one slot). ARGV: the
 * field to read from each of those hashes, in order. Returns the document, the number, then each
 * field's value (nil where missing).
 */
export const readTicketWith: RedisScript = {
  name: 'civicloopReadTicketWith',
  lua: `
local fields = redis.call('HMGET', KEYS[1], 'doc', 'number')
local out = { fields[1], fields[2] }
for i = 2, #KEYS do out[i + 1] = redis.call('HGET', KEYS[i], ARGV[i - 1]) end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopReadTicketWith(numKeys: number, ...keysThenFields: string[]): Result<(string | null)[], Context>;
  }
}
