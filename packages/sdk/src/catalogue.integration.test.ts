import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CivicLoop } from './client.js';
import { ConflictError, InvalidRequestError, PermissionDeniedError } from './errors.js';
import { signToken, type CategoryDefinition } from './index.js';

let gw: TestGateway;
let admin: CivicLoop;

beforeAll(async () => {
  gw = await startTestGateway();
  admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
});
afterAll(async () => gw?.close());

const POTHOLE: CategoryDefinition = {
  group: 'municipal',
  name: { 'zh-CN': '坑洼', en: 'Pothole' },
  defaultPriority: 'high',
  sla: { respond: 60, arrive: 240, resolve: 2880 },
  skills: ['road'],
  private: false,
  questions: [
    { code: 'depth_cm', datatype: 'number', required: true, order: 1, description: { 'zh-CN': '深度（厘米）', en: 'Depth (cm)' } },
    {
      code: 'lane',
      datatype: 'singlevaluelist',
      required: false,
      order: 2,
      description: { 'zh-CN': '位置', en: 'Where' },
      values: [
        { key: 'road', name: { 'zh-CN': '车道', en: 'Road' } },
        { key: 'cycle', name: { 'zh-CN': '非机动车道', en: 'Cycle lane' } },
      ],
    },
  ],
};

describe('the catalogue through the SDK', () => {
  it('defines and changes a category, reports under it with answers, and raises typed errors', async () => {
    const defined = await admin.catalogue.define('municipal.pothole', POTHOLE);
    expect(defined).toMatchObject({ code: 'municipal.pothole', version: 1 });
    const resident = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: () => signToken({ secretKey: gw.tenant.secretKey, sub: 'flat-5', role: 'citizen' }),
    });
    const listed = await resident.catalogue.list();
    expect(listed.categories.find((c) => c.code === 'municipal.pothole')?.questions?.map((q) => q.code)).toEqual(['depth_cm', 'lane']);

    const ticket = await resident.tickets.create({
      category: 'municipal.pothole',
      description: 'Deep hole',
      location: { lat: 23.13, lon: 113.32 },
      answers: { depth_cm: 12, lane: 'cycle' },
    });
    expect(ticket.answers).toEqual({ depth_cm: 12, lane: 'cycle' });
    expect(ticket.categoryAsReported?.name.en).toBe('Pothole');

    const missing = await resident.tickets
      .create({ category: 'municipal.pothole', description: 'Deep hole', location: { lat: 23.13, lon: 113.32 } })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InvalidRequestError);
    expect(missing).toMatchObject({ code: 'CL_ERR_ANSWER_INVALID', status: 422 });

    const renamed = await admin.catalogue.change('municipal.pothole', { name: { 'zh-CN': '路面坑洼', en: 'Road pothole' }, expectedVersion: 1 });
    expect(renamed.version).toBe(2);
    await expect(admin.catalogue.change('municipal.pothole', { disabled: true, expectedVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
    await expect(resident.catalogue.define('municipal.pothole', POTHOLE)).rejects.toBeInstanceOf(PermissionDeniedError);
    await admin.catalogue.change('municipal.pothole', { disabled: true });
    expect((await resident.catalogue.list()).categories.map((c) => c.code)).not.toContain('municipal.pothole');
    expect((await admin.catalogue.list({ all: true })).categories.find((c) => c.code === 'municipal.pothole')?.disabled).toBe(true);
    expect((await admin.tickets.get(ticket.id)).categoryAsReported?.name.en).toBe('Pothole');
  });
});
