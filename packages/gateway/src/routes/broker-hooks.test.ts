// biome-ignore-all lint/suspicious/noTemplateCurlyInString: EMQX's own templates, ${...} placeholders and all
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

// The request bodies EMQX sends are the templates configured in it (docs/scaling.md gives these
// two), with its ${...} placeholders filled in; answers are read as EMQX 5 reads them.
const AUTHENTICATE_TEMPLATE = '{"clientid": "${clientid}", "username": "${username}", "password": "${password}"}';
const AUTHORIZE_TEMPLATE =
  '{"tenant": "${client_attrs.civicloop_tenant}", "device": "${client_attrs.civicloop_device}", ' +
  '"username": "${username}", "topic": "${topic}", "action": "${action}"}';
const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\$\{([\w.]+)\}/g, (_, name: string) => JSON.stringify(values[name] ?? '').slice(1, -1));

let gw: TestGateway;
let disabledHooks: TestGateway;
const TOKEN = 'emqx-hook-token';

beforeAll(async () => {
  gw = await startTestGateway({ brokerHookToken: TOKEN }, { telemetry: true });
  disabledHooks = await startTestGateway({}, { redis: gw.redis });
});
afterAll(async () => {
  await disabledHooks?.close();
  await gw?.close();
});

async function emqx(path: 'authenticate' | 'authorize', values: Record<string, string>, token = TOKEN, gateway = gw) {
  const response = await fetch(`${gateway.url}/v1/broker/emqx/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: fill(path === 'authenticate' ? AUTHENTICATE_TEMPLATE : AUTHORIZE_TEMPLATE, values),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('EMQX HTTP authentication and authorization', () => {
  it('lets a device log in with its own credentials and keep to its own topics', async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Badge 1' } });
    const other = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Badge 2' } });
    const { device, credential } = registered.body as { device: { id: string }; credential: { username: string; password: string } };

    const login = await emqx('authenticate', { clientid: 'badge-1', username: credential.username, password: credential.password });
    expect(login).toEqual({
      status: 200,
      body: { result: 'allow', is_superuser: false, client_attrs: { civicloop_tenant: gw.tenant.id, civicloop_device: device.id } },
    });
    // ThingsBoard style: the secret as username, no password.
    expect((await emqx('authenticate', { clientid: 'badge-1', username: credential.password, password: '' })).body.result).toBe('allow');
    expect((await emqx('authenticate', { clientid: 'badge-1', username: credential.username, password: 'cl_dk_wrong' })).body).toEqual({
      result: 'deny',
      is_superuser: false,
    });
    // Another device's secret under this device's name.
    expect((await emqx('authenticate', { clientid: 'x', username: credential.username, password: other.body.credential.password })).body.result).toBe('deny');

    const attrs = login.body.client_attrs as Record<string, string>;
    const ask = (topic: string, action: string) =>
      emqx('authorize', {
        'client_attrs.civicloop_tenant': attrs.civicloop_tenant!,
        'client_attrs.civicloop_device': attrs.civicloop_device!,
        username: credential.username,
        topic,
        action,
      });
    const own = (channel: 'position' | 'event' | 'status' | 'cmd') => nativeTopic(gw.tenant.id, 'badge', device.id, channel);
    for (const channel of ['position', 'event', 'status'] as const) expect((await ask(own(channel), 'publish')).body).toEqual({ result: 'allow' });
    expect((await ask(own('cmd'), 'subscribe')).body).toEqual({ result: 'allow' });
    // The gateways consume native topics and OwnTracks topics under an account name
    // (`<tenant>.<device>`) from an external broker: an OwnTracks topic under the device id or a
    // ThingsBoard publish the broker took would reach none of them, so the device is told no instead.
    expect((await ask(`owntracks/${credential.username}/phone`, 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask('v1/devices/me/telemetry', 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask(`owntracks/${device.id}/${device.id}/cmd`, 'subscribe')).body).toEqual({ result: 'deny' });
    expect((await ask(own('cmd'), 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask(nativeTopic(gw.tenant.id, 'badge', other.body.device.id, 'position'), 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask(nativeTopic(gw.tenant.id, 'badge', other.body.device.id, 'cmd'), 'subscribe')).body).toEqual({ result: 'deny' });
    expect((await ask(`civicloop/${gw.tenant.id}/#`, 'subscribe')).body).toEqual({ result: 'deny' });
    const counters = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    // A secret no device has belongs to no tenant: only the other device's secret counts here.
    expect(counters).toMatchObject({ deniedPublishes: 4, deniedSubscriptions: 3, refusedConnects: 1 });

    // Disabled over the HTTP API: refused at the next login, and its topics closed at once.
    expect((await inject(gw, 'PATCH', `/v1/devices/${device.id}`, { auth: gw.tenant.secretKey, body: { disabled: true } })).status).toBe(200);
    expect((await emqx('authenticate', { clientid: 'badge-1', username: credential.username, password: credential.password })).body.result).toBe('deny');
    expect((await ask(own('position'), 'publish')).body).toEqual({ result: 'deny' });
  });

  it('lets an OwnTracks phone log in with its account name and keep to its own OwnTracks topics', async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: "Li's phone" } });
    const other = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: "Wang's phone" } });
    const { device, credential } = registered.body as { device: { id: string }; credential: { password: string } };
    // The app puts its user name in its topics: the account name says whose they are.
    const account = `${gw.tenant.id}.${device.id}`;
    const login = await emqx('authenticate', { clientid: 'pixel', username: account, password: credential.password });
    expect(login.body).toEqual({ result: 'allow', is_superuser: false, client_attrs: { civicloop_tenant: gw.tenant.id, civicloop_device: device.id } });
    // Another device's account name with this secret, or this one's under another tenant: refused.
    expect(
      (await emqx('authenticate', { clientid: 'x', username: `${gw.tenant.id}.${other.body.device.id}`, password: credential.password })).body.result,
    ).toBe('deny');
    expect((await emqx('authenticate', { clientid: 'x', username: `t_other.${device.id}`, password: credential.password })).body.result).toBe('deny');

    const ask = (topic: string, action: string) =>
      emqx('authorize', { 'client_attrs.civicloop_tenant': gw.tenant.id, 'client_attrs.civicloop_device': device.id, username: account, topic, action });
    const base = `owntracks/${account}/${device.id}`;
    for (const topic of [base, `${base}/event`, `${base}/waypoint`, `${base}/status`]) expect((await ask(topic, 'publish')).body).toEqual({ result: 'allow' });
    expect((await ask(`${base}/cmd`, 'subscribe')).body).toEqual({ result: 'allow' });
    const before = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body as {
      deniedPublishes: number;
      deniedSubscriptions: number;
    };
    // Its own command topic, another phone's topics, friends' locations: denied and counted.
    expect((await ask(`${base}/cmd`, 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask(`owntracks/${gw.tenant.id}.${other.body.device.id}/${other.body.device.id}`, 'publish')).body).toEqual({ result: 'deny' });
    expect((await ask('owntracks/+/+', 'subscribe')).body).toEqual({ result: 'deny' });
    expect((await ask(`owntracks/${gw.tenant.id}.${other.body.device.id}/${other.body.device.id}/cmd`, 'subscribe')).body).toEqual({ result: 'deny' });
    const after = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    expect(after).toMatchObject({ deniedPublishes: before.deniedPublishes + 2, deniedSubscriptions: before.deniedSubscriptions + 2 });
  });

  it('answers only the broker: a wrong token is refused, and the hooks are off without BROKER_HOOK_TOKEN', async () => {
    const wrong = await emqx('authenticate', { clientid: 'c', username: 'u', password: 'p' }, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect((wrong.body.error as { code: string }).code).toBe('CL_ERR_UNAUTHENTICATED');
    const off = await emqx('authenticate', { clientid: 'c', username: 'u', password: 'p' }, TOKEN, disabledHooks);
    expect(off.status).toBe(403);
    expect((off.body.error as { code: string }).code).toBe('CL_ERR_BROKER_HOOKS_DISABLED');
  });
});
