/** A Lua script the gateway runs, registered on a client as the command `name` (EVALSHA). */
export interface RedisScript {
  /** The ioredis command it becomes: `redis.<name>(numKeys, ...keys, ...argv)`. */
  name: string;
  lua: string;
}
