import { Cluster, type Redis } from 'ioredis';
import { sendScriptArgumentsAsGiven } from './script-arguments.js';

/**
 * Registers a Lua script as a command on the client (ioredis defineCommand: EVALSHA, loading
 * the script again when a restarted Redis answers NOSCRIPT), its arguments sent as given
 * (script-arguments.ts).
 *
 * On Redis Cluster the script is kept out of auto-pipelining. ioredis routes an auto-pipelined
 * custom command by its first argument, which for our scripts is the key count, not a key: the
 * batch goes to whichever node owns the slot of "3", and fails whole with "All keys in the
 * pipeline should belong to the same slots allocation group" (ioredis#2109). Sent on its own,
 * the command is routed by its declared keys.
 */
export function defineScript(redis: Redis | Cluster, name: string, lua: string): void {
  redis.defineCommand(name, { lua });
  sendScriptArgumentsAsGiven(redis, name);
  if (redis instanceof Cluster) {
    redis.options.autoPipeliningIgnoredCommands ??= [];
    const ignored = redis.options.autoPipeliningIgnoredCommands;
    if (!ignored.includes(name)) ignored.push(name);
  }
}
