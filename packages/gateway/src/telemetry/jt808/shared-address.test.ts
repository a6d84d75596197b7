import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';

// Vehicles on one mobile carrier reach the gateway from a few shared addresses (here 127.0.0.1),
// and a gateway of its own keeps this address's failed logins apart from the other tests'. Its
// clock starts a minute before the test: the limit counts per minute of it.
const clock = new MinuteClock();
let gw: TestGateway;
const terminals: Jt808Terminal[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ rateLimitAuthFailuresPerAddress: 3 }, { telemetry: true, now: clock.now });
  clock.startMinute();
});
afterAll(async () => {
  for (const terminal of terminals) terminal.close();
  await gw?.close();
});

async function terminalFor(terminalId: string) {
  const created = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: { kind: 'vehicle', name: `Truck ${terminalId}`, protocol: 'jt808', terminalId },
  });
  expect(created.status).toBe(201);
  return { deviceId: created.body.device.id as string, terminal: await connected(terminalId) };
}

async function connected(terminalId: string): Promise<Jt808Terminal> {
  const terminal = new Jt808Terminal(terminalId);
  terminals.push(terminal);
  await terminal.connect(gw.telemetry!.jt808Port!);
  return terminal;
}

describe('JT/T 808 terminals behind a shared address', () => {
  it('counts wrong codes against the address; past the limit, a terminal this gateway let in before still gets in, nothing else does', async () => {
    const known = await terminalFor('13900000001');
    const { code } = await known.terminal.register();
    expect(await known.terminal.authenticate(code!)).toBe(0);
    known.terminal.close();

    // Another terminal on the same carrier with a stale code, trying again and again.
    const stale = await terminalFor('13900000002');
    for (let i = 0; i < 3; i++) expect(await stale.terminal.authenticate(`stale-${i}`)).toBe(1);
    // Past the limit: refused without a lookup, and the connection closed.
    expect(await stale.terminal.authenticate('stale-3')).toBe(1);
    await expect.poll(() => stale.terminal.closed).toBe(true);
    // A new terminal cannot register from there meanwhile: the connection is closed unanswered.
    const newcomer = await terminalFor('13900000003');
    await expect(newcomer.terminal.register()).rejects.toThrow(/no platform message/);
    expect(newcomer.terminal.closed).toBe(true);

    // The terminal let in before reconnects (after a loss of signal) and is let in again.
    const back = await connected('13900000001');
    expect(await back.authenticate(code!)).toBe(0);
    back.close();
    // Only while its code is good: after a rotation its old code is looked up and refused.
    const rotated = await inject(gw, 'POST', `/v1/devices/${known.deviceId}/credentials`, { auth: gw.tenant.secretKey });
    expect(rotated.status).toBe(200);
    const afterRotation = await connected('13900000001');
    expect(await afterRotation.authenticate(code!)).toBe(1);
  });
});
