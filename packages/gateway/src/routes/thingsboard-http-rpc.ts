import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DEFAULT_DECODE_LIMITS, decodeTelemetry, type Device } from '@civicloop/model';
import { DeviceOutbox, type OutboxEntry } from '../store/device-outbox.js';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { thingsBoardCommand } from '../telemetry/thingsboard-command.js';
import { errorResponses } from './shared-schemas.js';
import { deviceOfSecret, ingestOverHttp, runningTelemetry } from './device-http.js';

/** ThingsBoard's wait for a long poll given no `timeout` (its transport.http.request_timeout). */
const RPC_POLL_DEFAULT_MS = 60_000;
/** The longest wait a poll may ask for (ThingsBoard's transport.http.max_request_timeout); longer asks get this. */
const RPC_POLL_MAX_MS = 300_000;
/** How long an answer holds its command against other polls and senders, should the gateway die mid-answer. */
const CLAIM_MS = 60_000;
/** How soon a poll looks again at a command another poll or sender holds: the holder may give it back. */
const CONTENDED_RECHECK_MS = 1_000;

/**
 * ThingsBoard's server-side RPC over HTTP (reference/http-api/rpc), for firmware that takes
 * commands by long poll: `GET /api/v1/<token>/rpc?timeout=<ms>` is held until a command waits in
 * the device's outbox, then answered `{"id", "method", "params"}` (the same request as on MQTT's
 * `v1/devices/me/rpc/request/<id>`, with ThingsBoard's integer id beside it), one command per
 * poll, oldest first; or, when the time runs out or the gateway closes, answered 408 with no body,
 * as ThingsBoard answers. A command given on any gateway wakes the poll at once (the command bus).
 *
 * A command leaves the outbox once its answer is written to the firmware's connection, as
 * ThingsBoard marks a command delivered when it answers the poll; it is claimed while the answer
 * is written (SET NX with a TTL), so polls on two gateways do not both take it, and a poll whose
 * firmware went away gives it back. On one gateway commands go to a device's newest poll only; an
 * older one waits out its time (telemetry/command-polls.ts says why). The firmware's reply (`POST .../rpc/<id>`) is taken
 * and set aside, as on MQTT. `GET .../attributes/updates` is held the same way and always ends
 * 408: CivicLoop keeps no attributes, so none ever changes. Device-side RPC (`POST .../rpc`) is
 * not served.
 */
export const thingsBoardRpcRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };
  const token = Type.String({ minLength: 1, maxLength: 256 });
  const querystring = Type.Object({
    timeout: Type.Optional(Type.Integer({ minimum: 0, description: 'milliseconds; 0 or absent: 60000; at most 300000' })),
  });
  const timedOut = Type.String({ description: 'empty: nothing came within the timeout, or the gateway is closing' });
  const outbox = new DeviceOutbox(services.redis);
  let lastRequestId = 0;
  // Held polls end (408) when shutdown begins, not when it has waited for them: the firmware polls
  // again, reaching another gateway, and this one closes without waiting out their timeouts.
  app.addHook('preClose', async () => services.telemetry?.commandPolls.closeAll());

  const polled = {
    hide: true,
    params: Type.Object({ token }),
    querystring,
    response: {
      200: Type.Object({ id: Type.Integer(), method: Type.String(), params: Type.Unknown() }, { description: 'a command, as ThingsBoard RPC' }),
      408: timedOut,
      ...errorResponses,
    },
  };
  app.get('/api/v1/:token/rpc', { config, schema: polled }, async (request, reply) => {
    const { tenantId, device } = await deviceOfSecret(services, request.ip, request.params.token);
    const telemetry = runningTelemetry(services);
    const deadline = Date.now() + pollMs(request.query.timeout);
    const gone = whenGone(reply);
    const poll = telemetry.commandPolls.open(tenantId, device.id, 'rpc');
    try {
      for (;;) {
        // Waiting before the outbox is read: a command pushed in between still wakes this poll.
        const woken = poll.wait(Math.max(0, deadline - Date.now()));
        // A replaced poll takes nothing: its connection may be the dead one the firmware gave up on.
        const taken = gone.now() || poll.replaced ? { contended: false } : await take(outbox, tenantId, device);
        if (taken.entry) {
          lastRequestId = (lastRequestId % 0x7fffffff) + 1;
          settleWhenWritten(reply, outbox, tenantId, device, taken.entry);
          return { id: lastRequestId, ...thingsBoardCommand(taken.entry.command, taken.entry.id) };
        }
        const wake = await Promise.race([woken, gone.promise, ...(taken.contended ? [delay(CONTENDED_RECHECK_MS)] : [])]);
        if (wake !== 'nudged' && wake !== 'recheck') return reply.code(408).send('');
      }
    } finally {
      poll.close();
    }
  });

  const updates = { hide: true, params: Type.Object({ token }), querystring, response: { 408: timedOut, ...errorResponses } };
  app.get('/api/v1/:token/attributes/updates', { config, schema: updates }, async (request, reply) => {
    const { tenantId, device } = await deviceOfSecret(services, request.ip, request.params.token);
    const telemetry = runningTelemetry(services);
    const poll = telemetry.commandPolls.open(tenantId, device.id, 'attributes');
    try {
      await Promise.race([poll.wait(pollMs(request.query.timeout)), whenGone(reply).promise]);
    } finally {
      poll.close();
    }
    return reply.code(408).send('');
  });

  const replied = {
    hide: true,
    params: Type.Object({ token, requestId: Type.Integer({ minimum: 0 }) }),
    response: { 200: Type.String({ description: 'empty' }), ...errorResponses },
  };
  // The body limit is the parent's content-type parser's (thingsboard-http.ts): the reply is read, then set aside.
  app.post('/api/v1/:token/rpc/:requestId', { config, schema: replied }, async (request, reply) => {
    const login = await deviceOfSecret(services, request.ip, request.params.token);
    const topic = { format: 'thingsboard' as const, channel: 'other' as const, subtopic: 'rpc/response' };
    const outcome = await ingestOverHttp(services, request, login, () =>
      decodeTelemetry(topic, Buffer.alloc(0), login.device, Date.now(), DEFAULT_DECODE_LIMITS),
    );
    if (outcome.type !== 'accepted') reply.header('civicloop-telemetry', `${outcome.type}; reason=${outcome.reason}`);
    return '';
  });
};

function pollMs(timeout: number | undefined): number {
  return timeout ? Math.min(timeout, RPC_POLL_MAX_MS) : RPC_POLL_DEFAULT_MS;
}

/** The oldest waiting command this poll could claim, and whether another holds one it could not. */
async function take(outbox: DeviceOutbox, tenantId: string, device: Device): Promise<{ entry?: OutboxEntry; contended: boolean }> {
  let contended = false;
  for (const entry of await outbox.waiting(tenantId, device)) {
    if (await outbox.claim(tenantId, entry.id, CLAIM_MS)) return { entry, contended };
    contended = true;
  }
  return { contended };
}

/** Once the answer is written, its command leaves the outbox; if the connection closed first, it is given back. */
function settleWhenWritten(reply: FastifyReply, outbox: DeviceOutbox, tenantId: string, device: Device, entry: OutboxEntry): void {
  const settle = () => {
    const settled = reply.raw.writableFinished ? outbox.confirm(tenantId, device, entry.id) : outbox.release(tenantId, entry.id);
    settled.catch((error: unknown) => reply.log.warn({ err: error, device: device.id }, 'could not settle a command answered over HTTP'));
  };
  reply.raw.once('close', settle);
}

/** Whether the client has gone, and a promise that settles when it goes. */
function whenGone(reply: FastifyReply): { now(): boolean; promise: Promise<'gone'> } {
  let gone = false;
  const promise = new Promise<'gone'>((resolve) =>
    reply.raw.once('close', () => {
      gone = true;
      resolve('gone');
    }),
  );
  return { now: () => gone || reply.raw.destroyed, promise };
}

function delay(ms: number): Promise<'recheck'> {
  return new Promise((resolve) => setTimeout(() => resolve('recheck'), ms).unref());
}
