import { PREFIX } from './keys.js';

/** A Redis command as ioredis puts it on its errors. */
export interface RedisCommand {
  name: string;
  args: unknown[];
}

export function isRedisCommand(value: unknown): value is RedisCommand {
  return typeof value === 'object' && value !== null && typeof (value as RedisCommand).name === 'string' && Array.isArray((value as RedisCommand).args);
}

/** A Redis command as it may be logged: what it did and to which keys, not what it wrote. */
export function summariseCommand(command: RedisCommand): Record<string, unknown> {
  const name = command.name.toLowerCase();
  const { args } = command;
  if (name === 'eval' || name === 'evalsha' || name === 'fcall') {
    const keyCount = Number(args[1]);
    const keys = Number.isInteger(keyCount) && keyCount >= 0 ? args.slice(2, 2 + keyCount).map(String) : [];
    const script = name === 'evalsha' ? { sha: String(args[0]) } : name === 'fcall' ? { function: String(args[0]) } : {};
    return { name, ...script, keys, argCount: args.length };
  }
  const first = args[0];
  return { name, ...(typeof first === 'string' && first.startsWith(PREFIX) ? { key: first } : {}), argCount: args.length };
}
