import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '@civicloop/test-support/gateway-harness.js';
import { CrashableGateway } from '@civicloop/test-support/gateway-process.js';
import { Jt808Terminal, locationBody, type Fix } from '@civicloop/test-support/jt808-terminal.js';
import { tenantKeys } from '../../redis/keys.js';
import { decodeStoredPosition } from '../../store/stored-position.js';

let gateway: CrashableGateway;

beforeAll(async () => {
  gateway = await CrashableGateway.start({ jt808: true });
});
afterAll(async () => gateway?.stop());

const word = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
/** A 0x0704 body: count, type (1: blind-area data), then each location with its length. */
const batchBody = (fixes: Fix[]) =>
  Buffer.concat([word(fixes.length), Buffer.from([1]), ...fixes.flatMap((fix) => [word(locationBody(fix).length), locationBody(fix)])]);

describe('a gateway killed while a JT/T 808 terminal uploads its blind-area data', () => {
  it("has every position it answered (0x8001) in Redis after restart and the terminal's resend, none twice", { timeout: 60_000 }, async () => {
    const url = gateway.url;
    const port = Number(gateway.env.JT808_PORT);
    const tenant = await api(url, 'POST', '/v1/tenants', { auth: 'crash-operator', body: { code: 'JTCR', name: 'JT crash' } });
    const terminalId = '013800138000';
    const device = await api(url, 'POST', '/v1/devices', {
      auth: tenant.body.secretKey,
      body: { kind: 'vehicle', name: 'Crash truck', protocol: 'jt808', terminalId },
    });
    expect(device.status, JSON.stringify(device.body)).toBe(201);
    const terminal = new Jt808Terminal(terminalId);
    await terminal.connect(port);
    const { code } = await terminal.register();
    expect(await terminal.authenticate(code!)).toBe(0);

    // 150 batches of 10 fixes, one second apart (JT/T 808 times are whole seconds), and what each is.
    const batches = 150;
    const perBatch = 10;
    const start = Math.floor(Date.now() / 1000) * 1000 - batches * perBatch * 1000 - 60_000;
    const messages = Array.from({ length: batches }, (_, b) =>
      batchBody(Array.from({ length: perBatch }, (_, i) => ({ lat: 23.1 + (b * perBatch + i) * 1e-5, lon: 113.2, time: start + (b * perBatch + i) * 1000 }))),
    );
    const fixTimesOf = (b: number) => Array.from({ length: perBatch }, (_, i) => start + (b * perBatch + i) * 1000);
    // A terminal keeps a message until the platform answers it, and sends it again after a reconnect.
    const pending = new Map<number, number>();
    const answered = new Set<number>();
    const collectAnswers = () => {
      for (const m of terminal.received.splice(0)) {
        if (m.id !== 0x8001) continue;
        const batch = pending.get(m.body.readUInt16BE(0));
        if (batch !== undefined && m.body[4] === 0) answered.add(batch);
      }
    };
    // The terminal keeps at most `window` batches unanswered, as a real one sending its backlog
    // does; so when the gateway is killed some batches were never sent, whatever the machine's speed.
    const window = 20;
    let sent = 0;
    const pump = () => {
      while (sent < batches && sent - answered.size < window) pending.set(terminal.send(0x0704, messages[sent]!), sent++);
    };
    for (let i = 0; i < 2000 && answered.size < 20; i++) {
      pump();
      await new Promise((r) => setTimeout(r, 2));
      collectAnswers();
    }
    pump(); // and killed with a window of batches in flight
    await gateway.kill();
    collectAnswers();
    const answeredBeforeKill = new Set(answered);
    expect(answeredBeforeKill.size).toBeGreaterThan(0);
    expect(answeredBeforeKill.size).toBeLessThan(batches);

    await gateway.restart();
    terminal.close();
    await terminal.connect(port);
    // The auth code it was given survives the restart (it is in Redis).
    expect(await terminal.authenticate(code!)).toBe(0);
    pending.clear();
    for (let b = 0; b < batches; b++) if (!answered.has(b)) pending.set(terminal.send(0x0704, messages[b]!), b);
    for (let i = 0; i < 1500 && answered.size < batches; i++) {
      collectAnswers();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(answered.size).toBe(batches);
    terminal.close();

    const entries = await gateway.redis.client.xrange(tenantKeys(tenant.body.tenant.id).track(device.body.device.id), '-', '+');
    const stored = entries.map(([, fields]) => decodeStoredPosition(fields[1]!).fixTime);
    expect(new Set(stored).size).toBe(stored.length);
    for (const b of answeredBeforeKill) for (const t of fixTimesOf(b)) expect(stored).toContain(t);
    expect(stored.length).toBe(batches * perBatch);
  });
});
