import { describe, expect, it } from 'vitest';
import { ReplyError } from 'ioredis';
import type { LoggerOptions } from 'pino';
import { summariseCommand } from '../redis/command-summary.js';
import { gatewayLoggerOptions, redactUrl, serializeError } from './log-serializers.js';

describe('log lines carry no credentials and no ticket contents', () => {
  it('redacts credential parameters and credential-looking values in a URL, and leaves the rest as it came', () => {
    expect(redactUrl('/v1/osmand?key=cl_dk_abc.def&id=d_1&lat=23.1&lon=113.2')).toBe('/v1/osmand?key=[redacted]&id=d_1&lat=23.1&lon=113.2');
    // Traccar Client with the secret as its identifier.
    expect(redactUrl('/v1/osmand?id=cl_dk_abc.def&timestamp=1')).toBe('/v1/osmand?id=[redacted]&timestamp=1');
    // Percent-encoded names and values are recognised; the URL is otherwise not re-encoded.
    expect(redactUrl('/open311/v2/requests.json?API%5FKEY=x&description=a+b%20c')).toBe('/open311/v2/requests.json?API%5FKEY=[redacted]&description=a+b%20c');
    expect(redactUrl('/x?note=cl%5Fsk%5Ft_1.secret')).toBe('/x?note=[redacted]');
    expect(redactUrl('/v1/media/t_1/ab.jpg?exp=1796544000&sig=abcdef')).toBe('/v1/media/t_1/ab.jpg?exp=1796544000&sig=[redacted]');
    expect(redactUrl('/v1/events?access_token=eyJhbGciOi.eyJzdWIi.sig')).toBe('/v1/events?access_token=[redacted]');
    expect(redactUrl('/x?t=eyJhbGciOi.eyJzdWIi.sig&flag&bad=%E0%A4%A')).toBe('/x?t=[redacted]&flag&bad=%E0%A4%A');
    expect(redactUrl('/api/v1/cl_dk_abc.def/telemetry')).toBe('/api/v1/[redacted]/telemetry');
    expect(redactUrl('/api/v1/anything/attributes?sharedKeys=interval')).toBe('/api/v1/[redacted]/attributes?sharedKeys=interval');
    expect(redactUrl('/v1/tickets?status=dispatched&limit=20')).toBe('/v1/tickets?status=dispatched&limit=20');
    expect(redactUrl('/v1/tickets')).toBe('/v1/tickets');
  });

  it('logs a Redis command by its name and keys, never by what it wrote', () => {
    const script = summariseCommand({
      name: 'evalsha',
      args: ['0d4dda13', '2', 'cl:{t_1}:ticket:tk_1', 'cl:{t_1}:events', 'C 1 1', '{"description":"电话 13800138000"}'],
    });
    expect(script).toEqual({ name: 'evalsha', sha: '0d4dda13', keys: ['cl:{t_1}:ticket:tk_1', 'cl:{t_1}:events'], argCount: 6 });
    expect(summariseCommand({ name: 'hset', args: ['cl:{t_1}:ticket:tk_1', 'doc', '{"description":"x"}'] })).toEqual({
      name: 'hset',
      key: 'cl:{t_1}:ticket:tk_1',
      argCount: 3,
    });
    // A first argument that is not one of our keys is not logged either.
    expect(summariseCommand({ name: 'auth', args: ['user', 'password'] })).toEqual({ name: 'auth', argCount: 2 });
  });

  it('summarises the command on an error, on its nested errors and causes, and keeps the error otherwise', () => {
    const marker = 'Bin overflowing, call 13800138000';
    const command = { name: 'evalsha', args: ['sha', '1', 'cl:{t_1}:ticket:tk_1', JSON.stringify({ description: marker })] };
    const reply = Object.assign(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."), { command });
    const wrapped = Object.assign(new Error('Too many Cluster redirections.'), { lastNodeError: reply, previousErrors: [reply] });
    for (const error of [reply, wrapped, new Error('outer', { cause: reply })]) {
      const logged = JSON.stringify(serializeError(error));
      expect(logged).not.toContain('13800138000');
      expect(logged).toContain('OOM command not allowed');
    }
    const logged = serializeError(reply) as Record<string, unknown>;
    expect(logged).toMatchObject({ type: 'ReplyError', command: { name: 'evalsha', sha: 'sha', keys: ['cl:{t_1}:ticket:tk_1'], argCount: 4 } });
    expect(JSON.stringify(serializeError(wrapped))).toContain('"keys":["cl:{t_1}:ticket:tk_1"]');
    // The error itself is not changed: whoever else holds it still has the whole command.
    expect(reply.command.args).toHaveLength(4);
    // Values that are not errors pass through.
    expect(serializeError('text')).toBe('text');
  });

  it("adds the serializers to the gateway's logger options, and leaves a logger that is off off", () => {
    expect(gatewayLoggerOptions('info', false)).toBe(false);
    const fromLevel = gatewayLoggerOptions('warn', undefined) as LoggerOptions;
    expect(fromLevel.level).toBe('warn');
    expect(Object.keys(fromLevel.serializers ?? {})).toEqual(['req', 'err']);
    const given = gatewayLoggerOptions('info', { level: 'error', serializers: { res: (r: unknown) => r } }) as LoggerOptions;
    expect(Object.keys(given.serializers ?? {}).sort()).toEqual(['err', 'req', 'res']);
    expect(given.level).toBe('error');
  });
});
