import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BadgeCommand } from '@civicloop/model';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { SAMPLE_ASSIGNMENT } from '@civicloop/test-support/device-gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { DeviceOutbox, OUTBOX_KEEP } from './device-outbox.js';

let redis: TestRedis;
let outbox: DeviceOutbox;
beforeAll(async () => {
  redis = await startTestRedis();
  outbox = new DeviceOutbox(redis.client);
});
afterAll(() => redis.stop());

let devices = 0;
const badge = () => ({ id: `badge-${++devices}`, protocol: 'mqtt' as const });
const assignment = (ticketId: string) => ({ ...(SAMPLE_ASSIGNMENT as Extract<BadgeCommand, { type: 'assignment' }>), ticketId, number: `N-${ticketId}` });
const withdrawal = (ticketId: string): BadgeCommand => ({ type: 'withdrawal', ticketId, number: `N-${ticketId}`, reason: 'reassigned' });
const described = async (device: ReturnType<typeof badge>) =>
  (await outbox.waiting('t1', device)).map(({ command }) => [command.type, 'ticketId' in command ? command.ticketId : undefined]);

describe('a device outbox', () => {
  it('keeps the latest word on each ticket: a command about a ticket replaces what waits about it, and nothing else', async () => {
    const device = badge();
    await outbox.push('t1', device, assignment('a'));
    await outbox.push('t1', device, { type: 'report_location' });
    await outbox.push('t1', device, assignment('b'));
    await outbox.push('t1', device, withdrawal('a'));
    expect(await described(device)).toEqual([
      ['report_location', undefined],
      ['assignment', 'b'],
      ['withdrawal', 'a'],
    ]);
    await outbox.push('t1', device, assignment('a'));
    await outbox.push('t1', device, { type: 'report_location' });
    expect(await described(device)).toEqual([
      ['report_location', undefined],
      ['assignment', 'b'],
      ['assignment', 'a'],
      ['report_location', undefined],
    ]);
    // Another device's outbox is its own.
    const other = badge();
    await outbox.push('t1', other, assignment('a'));
    await outbox.push('t1', device, withdrawal('a'));
    expect(await described(other)).toEqual([['assignment', 'a']]);
  });

  it(`keeps the ${OUTBOX_KEEP} newest, and passes over an entry it cannot read`, async () => {
    const device = badge();
    const key = tenantKeys('t1').mqttOutbox(device.id);
    await redis.client.lpush(key, 'not json');
    for (let i = 0; i < OUTBOX_KEEP; i++) await outbox.push('t1', device, assignment(`t${i}`));
    // The unreadable entry was the oldest: trimmed now, after every push passed over it.
    expect(await redis.client.lrange(key, 0, -1)).not.toContain('not json');
    await outbox.push('t1', device, withdrawal('t0'));
    const kept = await described(device);
    expect(kept).toHaveLength(OUTBOX_KEEP);
    expect(kept[0]).toEqual(['assignment', 't1']);
    expect(kept.at(-1)).toEqual(['withdrawal', 't0']);
  });
});
