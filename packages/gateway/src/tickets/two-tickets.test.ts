import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

/**
 * Commands that read a second ticket (merge reads the original it merges into) must commit as if
 * they ran one after the other. Each trial runs two commands at the same moment on fresh tickets;
 * its outcome must be one that some serial run produces: both in one order, both in the other,
 * or one alone while the other was refused with a conflict and changed nothing.
 */
let gw: TestGateway;
let dispatcher: string;
beforeAll(async () => {
  gw = await startTestGateway();
  dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
});
afterAll(async () => gw?.close());

type Ids = { a: string; b: string; c: string };
type Command = (ids: Ids) => Promise<{ status: number; body: any }>;

const merge =
  (from: keyof Ids, into: keyof Ids): Command =>
  (ids) =>
    inject(gw, 'POST', `/v1/tickets/${ids[from]}/merge`, { auth: dispatcher, body: { into: ids[into] } });
const reject =
  (which: keyof Ids): Command =>
  (ids) =>
    inject(gw, 'POST', `/v1/tickets/${ids[which]}/reject`, { auth: dispatcher, body: { reason: 'void' } });
const cancel =
  (which: keyof Ids): Command =>
  (ids) =>
    inject(gw, 'POST', `/v1/tickets/${ids[which]}/cancel`, { auth: gw.tenant.secretKey, body: {} });
const dispatch =
  (which: keyof Ids): Command =>
  (ids) =>
    inject(gw, 'POST', `/v1/tickets/${ids[which]}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } });

const SCENARIOS: [string, Command, Command][] = [
  ['merge A into B | merge B into A', merge('a', 'b'), merge('b', 'a')],
  ['merge A into B | merge B into C', merge('a', 'b'), merge('b', 'c')],
  ['merge A into B | reject B', merge('a', 'b'), reject('b')],
  ['merge A into B | cancel B', merge('a', 'b'), cancel('b')],
  ['merge A into B | dispatch B', merge('a', 'b'), dispatch('b')],
  ['merge A into C | merge B into C', merge('a', 'c'), merge('b', 'c')],
];

/** Anonymous reports (publishable key alone: the original is only read) and identified ones (it gains a follower). */
const REPORTERS = {
  anonymous: () => ({ key: gw.tenant.publishableKey }),
  identified: () => ({ auth: gw.tenant.secretKey }),
} as const;

async function fresh(reporter: keyof typeof REPORTERS): Promise<Ids> {
  const make = async () => {
    const res = await inject(gw, 'POST', '/v1/tickets', { ...REPORTERS[reporter](), body: BIN_REPORT });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  return { a: await make(), b: await make(), c: await make() };
}

/** What matters of the three tickets, with ids replaced by their names. */
async function outcome(ids: Ids): Promise<string> {
  const name = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
  const parts = [];
  for (const key of ['a', 'b', 'c'] as const) {
    const t = (await inject(gw, 'GET', `/v1/tickets/${ids[key]}`, { auth: gw.tenant.secretKey })).body;
    parts.push(`${key}:${t.status}:v${t.version}:${t.duplicateOf ? name(t.duplicateOf) : '-'}:${t.followers.length}`);
  }
  return parts.join(' ');
}

async function serial(reporter: keyof typeof REPORTERS, ...commands: Command[]): Promise<string> {
  const ids = await fresh(reporter);
  for (const command of commands) await command(ids);
  return outcome(ids);
}

describe('commands that touch two tickets', { timeout: 120_000 }, () => {
  for (const reporter of Object.keys(REPORTERS) as (keyof typeof REPORTERS)[]) {
    for (const [name, x, y] of SCENARIOS) {
      it(`${name} (${reporter} reports): every concurrent outcome is a serial one`, async () => {
        const allowed = new Map([
          [await serial(reporter, x, y), 'x then y'],
          [await serial(reporter, y, x), 'y then x'],
        ]);
        const xAlone = await serial(reporter, x);
        const yAlone = await serial(reporter, y);
        for (let trial = 0; trial < 12; trial++) {
          const ids = await fresh(reporter);
          const [rx, ry] = await Promise.all([x(ids), y(ids)]);
          const seen = await outcome(ids);
          // One alone is a serial outcome only when the other was refused and wrote nothing.
          const serialOnes = new Map(allowed);
          if (ry.status === 409) serialOnes.set(xAlone, 'x alone, y refused');
          if (rx.status === 409) serialOnes.set(yAlone, 'y alone, x refused');
          expect(
            [rx.status, ry.status].every((s) => s < 500),
            JSON.stringify([rx.body, ry.body]),
          ).toBe(true);
          expect([...serialOnes.keys()], `trial ${trial}: ${seen} (x ${rx.status}, y ${ry.status})`).toContain(seen);
        }
      });
    }
  }
});
