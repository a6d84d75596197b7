import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CategoryDefinition } from '@civicloop/model';
import { BIN_REPORT, snapshotRedis, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';
import { readOpen311Xml } from '@civicloop/test-support/open311-xml.js';

let gw: TestGateway;
let admin: string;
let dispatcher: string;
let resident: string;
beforeAll(async () => {
  gw = await startTestGateway();
  admin = await gw.tenant.token('admin-1', 'admin');
  dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
  resident = await gw.tenant.token('flat-1201', 'citizen');
});
afterAll(async () => gw?.close());

const LEAVES: CategoryDefinition = {
  group: 'sanitation',
  name: { 'zh-CN': '落叶堆积', en: 'Piled-up leaves' },
  defaultPriority: 'low',
  sla: { respond: 120, arrive: 480, resolve: 1440 },
  skills: ['cleaning'],
  private: false,
  questions: [
    {
      code: 'size',
      datatype: 'singlevaluelist',
      required: true,
      order: 1,
      description: { 'zh-CN': '有多少？', en: 'How much is there?' },
      values: [
        { key: 'small', name: { 'zh-CN': '少量', en: 'A little' } },
        { key: 'large', name: { 'zh-CN': '大量', en: 'A lot' } },
      ],
    },
    {
      code: 'hazards',
      datatype: 'multivaluelist',
      required: false,
      order: 3,
      description: { 'zh-CN': '有无危险物？', en: 'Anything dangerous in it?' },
      values: [
        { key: 'glass', name: { 'zh-CN': '玻璃', en: 'Glass' } },
        { key: 'sharp', name: { 'zh-CN': '尖锐物', en: 'Sharp objects' } },
      ],
    },
    {
      code: 'bags',
      datatype: 'number',
      required: false,
      order: 2,
      description: { 'zh-CN': '大约几袋？', en: 'About how many bags?' },
      help: { 'zh-CN': '估计即可', en: 'A guess will do' },
    },
    { code: 'seen_at', datatype: 'datetime', required: false, order: 4, description: { 'zh-CN': '何时看到？', en: 'When did you see it?' } },
  ],
};
const LEAF_REPORT = { ...BIN_REPORT, category: 'sanitation.leaf_litter', description: 'Leaves blocking the drain' };

const put = (code: string, body: unknown, auth = admin) => inject(gw, 'PUT', `/v1/categories/${code}`, { auth, body });
const patch = (code: string, body: unknown, auth = admin) => inject(gw, 'PATCH', `/v1/categories/${code}`, { auth, body });
const report = (body: unknown, auth = resident) => inject(gw, 'POST', '/v1/tickets', { auth, body });
const categories = async (auth: string, query = '') =>
  (await inject(gw, 'GET', `/v1/categories${query}`, { auth })).body.categories as {
    code: string;
    name: { en: string };
    disabled?: boolean;
    version?: number;
    sla: { resolve: number };
  }[];

describe("each tenant's catalogue", () => {
  it('adds a category with extra questions, for this tenant only', async () => {
    const defined = await put('sanitation.leaf_litter', LEAVES);
    expect(defined.status, JSON.stringify(defined.body)).toBe(200);
    expect(defined.body).toMatchObject({ code: 'sanitation.leaf_litter', version: 1, name: LEAVES.name });
    const listed = await inject(gw, 'GET', '/v1/categories', { key: gw.tenant.publishableKey });
    expect(listed.headers.get('cache-control')).toBe('private, max-age=60');
    expect(listed.body.categories.map((c: { code: string }) => c.code)).toContain('sanitation.leaf_litter');
    expect(listed.body.categories.find((c: { code: string }) => c.code === 'sanitation.leaf_litter').questions).toHaveLength(4);
    // Another tenant's catalogue is untouched.
    const other = await gw.createTenant('OTHER');
    expect((await categories(await other.token('a', 'admin'))).map((c) => c.code)).not.toContain('sanitation.leaf_litter');
    expect((await report(LEAF_REPORT, await other.token('r', 'citizen'))).body.error.code).toBe('CL_ERR_UNKNOWN_CATEGORY');
    // Units, zones and the policy can name it.
    expect(
      (await inject(gw, 'POST', '/v1/units', { auth: admin, body: { id: 'leaves', name: 'Leaf crew', categories: ['sanitation.leaf_litter'] } })).status,
    ).toBe(201);
    expect((await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: admin, body: { categoryVisibility: { 'sanitation.leaf_litter': 'public' } } })).status).toBe(
      200,
    );
  });

  it('takes reports that answer its questions, in the form each question takes, and keeps the category as reported', async () => {
    const made = await report({
      ...LEAF_REPORT,
      answers: { size: 'large', bags: '3', hazards: ['glass', 'sharp', 'glass'], seen_at: '2026-12-03T09:30:00+08:00' },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.answers).toEqual({ size: 'large', bags: 3, hazards: ['glass', 'sharp'], seen_at: '2026-12-03T01:30:00.000Z' });
    expect(made.body.categoryAsReported).toMatchObject({ code: 'sanitation.leaf_litter', version: 1, name: LEAVES.name });
    expect(made.body.priority).toBe('low');
    // A built-in category the tenant has not changed carries no copy of itself.
    const bin = await report(BIN_REPORT);
    expect(bin.status).toBe(201);
    expect(bin.body.categoryAsReported).toBeUndefined();
    expect(bin.body.answers).toBeUndefined();
  });

  it('refuses answers that are missing, not asked or of the wrong kind, writing nothing', async () => {
    const before = await snapshotRedis(gw.redis.client);
    const cases: [unknown, string][] = [
      [undefined, 'size'],
      [{ bags: 2 }, 'size'],
      [{ size: 'huge' }, 'size'],
      [{ size: 'small', bags: 'many' }, 'bags'],
      [{ size: 'small', hazards: ['fire'] }, 'hazards'],
      [{ size: 'small', seen_at: 'yesterday' }, 'seen_at'],
      [{ size: 'small', seen_at: '2026-12-03T09:30:00' }, 'seen_at'],
      [{ size: 'small', colour: 'brown' }, 'colour'],
    ];
    for (const [answers, question] of cases) {
      const refused = await report({ ...LEAF_REPORT, ...(answers ? { answers } : {}) });
      expect(refused.status, JSON.stringify(answers)).toBe(422);
      expect(refused.body.error.code).toBe('CL_ERR_ANSWER_INVALID');
      expect(refused.body.error.details.question).toBe(question);
    }
    // A category without questions takes no answers.
    const binRefused = await report({ ...BIN_REPORT, answers: { size: 'small' } });
    expect(binRefused.body.error.code).toBe('CL_ERR_ANSWER_INVALID');
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });

  it('re-times and renames: later reports take the change, earlier ones keep what they were reported under', async () => {
    const before = await report({ ...LEAF_REPORT, answers: { size: 'small' } });
    const builtInBefore = await report(BIN_REPORT);
    const changed = await patch('sanitation.leaf_litter', { name: { 'zh-CN': '落叶', en: 'Leaves' }, sla: { respond: 60, arrive: 120, resolve: 240 } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, name: { en: 'Leaves' }, questions: LEAVES.questions });
    const binChanged = await patch('sanitation.bin_overflow', { sla: { respond: 10, arrive: 20, resolve: 30 } });
    expect(binChanged.body).toMatchObject({ version: 1, sla: { resolve: 30 }, name: { en: 'Overflowing bin' } });
    const after = await report({ ...LEAF_REPORT, answers: { size: 'small' } });
    const builtInAfter = await report(BIN_REPORT);
    expect(after.body.categoryAsReported).toMatchObject({ version: 2, name: { en: 'Leaves' } });
    expect(builtInAfter.body.categoryAsReported).toMatchObject({ version: 1, sla: { resolve: 30 } });

    // Dispatched after the change, each ticket's deadlines come from its category as reported.
    const resolveMinutes = async (id: string) => {
      const dispatched = await inject(gw, 'POST', `/v1/tickets/${id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } });
      expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
      const { ticket } = dispatched.body;
      return Math.round((Date.parse(ticket.sla.resolveBy) - Date.parse(ticket.dispatchedAt)) / 60_000);
    };
    expect(await resolveMinutes(before.body.id)).toBe(1440 * 2);
    expect(await resolveMinutes(after.body.id)).toBe(240 * 2);
    expect(await resolveMinutes(builtInBefore.body.id)).toBe(180);
    expect(await resolveMinutes(builtInAfter.body.id)).toBe(30);
    // Read back later, the earlier ticket still names the category as it was.
    const read = await inject(gw, 'GET', `/v1/tickets/${before.body.id}`, { auth: dispatcher });
    expect(read.body.categoryAsReported.name.en).toBe('Piled-up leaves');
  });

  it('disables a category: no new reports, staff still see it and its tickets go on', async () => {
    const open = await report({ ...LEAF_REPORT, answers: { size: 'large' } });
    expect((await patch('sanitation.leaf_litter', { disabled: true })).body).toMatchObject({ disabled: true });
    expect((await categories(resident)).map((c) => c.code)).not.toContain('sanitation.leaf_litter');
    expect((await categories(resident, '?all=true')).map((c) => c.code)).not.toContain('sanitation.leaf_litter');
    expect((await categories(admin, '?all=true')).find((c) => c.code === 'sanitation.leaf_litter')).toMatchObject({ disabled: true });
    const refused = await report({ ...LEAF_REPORT, answers: { size: 'large' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('CL_ERR_UNKNOWN_CATEGORY');
    expect((await inject(gw, 'POST', `/v1/tickets/${open.body.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } })).status).toBe(200);
    expect((await patch('sanitation.leaf_litter', { disabled: false })).body.disabled).toBe(false);
    expect((await report({ ...LEAF_REPORT, answers: { size: 'large' } })).status).toBe(201);
  });

  it('loses no change when sixteen admins change one category at once, and refuses a stale expectedVersion', async () => {
    const start = (await categories(admin, '?all=true')).find((c) => c.code === 'municipal.street_light');
    expect(start?.version).toBeUndefined();
    const changes = Array.from({ length: 16 }, (_, i) =>
      i % 2 === 0 ? { skills: [`electrical_${i}`] } : { sla: { respond: 60 + i, arrive: 600, resolve: 2000 + i } },
    );
    const answers = await Promise.all(changes.map((change) => patch('municipal.street_light', change)));
    expect(answers.map((a) => a.status)).toEqual(changes.map(() => 200));
    expect(new Set(answers.map((a) => a.body.version))).toEqual(new Set(changes.map((_, i) => i + 1)));
    const last = answers.find((a) => a.body.version === 16)!.body;
    // The last change was made on top of all the others: it holds one skills change and one SLA change.
    expect(last.skills[0]).toMatch(/^electrical_\d+$/);
    expect(last.sla.resolve).toBeGreaterThan(2000);
    const stale = await patch('municipal.street_light', { name: { 'zh-CN': '路灯', en: 'Lamp' }, expectedVersion: 3 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('CL_ERR_CATEGORY_CHANGED');
    expect((await patch('municipal.street_light', { name: { 'zh-CN': '路灯', en: 'Lamp' }, expectedVersion: 16 })).body.version).toBe(17);
  });

  it('refuses definitions that cannot work, and anyone but an admin, writing nothing', async () => {
    const before = await snapshotRedis(gw.redis.client);
    const question = LEAVES.questions![0]!;
    const bad: [string, unknown, string][] = [
      ['sanitation.new_one', { ...LEAVES, group: 'nowhere' }, 'CL_ERR_VALIDATION'],
      ['Not A Code', LEAVES, 'CL_ERR_VALIDATION'],
      ['nodot', LEAVES, 'CL_ERR_VALIDATION'],
      ['sanitation.new_one', { ...LEAVES, questions: [{ ...question, values: undefined }] }, 'CL_ERR_VALIDATION'],
      ['sanitation.new_one', { ...LEAVES, questions: [question, question] }, 'CL_ERR_VALIDATION'],
      ['sanitation.new_one', { ...LEAVES, questions: [{ ...question, datatype: 'text' }] }, 'CL_ERR_VALIDATION'],
      ['sanitation.new_one', { ...LEAVES, name: { 'zh-CN': '', en: 'x' } }, 'CL_ERR_VALIDATION'],
      ['sanitation.new_one', { ...LEAVES, sla: { respond: 0, arrive: 1, resolve: 1 } }, 'CL_ERR_VALIDATION'],
    ];
    for (const [code, body, error] of bad) {
      const refused = await put(encodeURIComponent(code), body);
      expect([400, 422], `${code} ${JSON.stringify(body).slice(0, 80)}`).toContain(refused.status);
      expect(refused.body.error.code).toBe(error);
    }
    expect((await patch('sanitation.not_there', { disabled: true })).body.error.code).toBe('CL_ERR_UNKNOWN_CATEGORY');
    expect((await put('sanitation.new_one', LEAVES, dispatcher)).status).toBe(403);
    expect((await put('sanitation.new_one', LEAVES, resident)).status).toBe(403);
    expect((await inject(gw, 'PUT', '/v1/categories/sanitation.new_one', { key: gw.tenant.publishableKey, body: LEAVES })).status).toBe(403);
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });

  it('shows the questions to Open311 clients as attributes and takes their answers as attribute[code]', async () => {
    const base = `${gw.url}/open311/v2`;
    const code = gw.tenant.code;
    const services = readOpen311Xml(await (await fetch(`${base}/services.xml?jurisdiction_id=${code}`)).text()).body as {
      service_code: string;
      metadata: string;
      service_name: string;
    }[];
    expect(services.find((s) => s.service_code === 'sanitation.leaf_litter')).toMatchObject({ metadata: 'true', service_name: 'Leaves' });
    expect(services.find((s) => s.service_code === 'sanitation.dead_animal')).toMatchObject({ metadata: 'false' });
    const definition = await (await fetch(`${base}/services/sanitation.leaf_litter.json?jurisdiction_id=${code}`)).json();
    expect(definition).toEqual({
      service_code: 'sanitation.leaf_litter',
      attributes: [
        {
          variable: true,
          code: 'size',
          datatype: 'singlevaluelist',
          required: true,
          datatype_description: null,
          order: 1,
          description: 'How much is there?',
          values: [
            { key: 'small', name: 'A little' },
            { key: 'large', name: 'A lot' },
          ],
        },
        {
          variable: true,
          code: 'bags',
          datatype: 'number',
          required: false,
          datatype_description: 'A guess will do',
          order: 2,
          description: 'About how many bags?',
        },
        {
          variable: true,
          code: 'hazards',
          datatype: 'multivaluelist',
          required: false,
          datatype_description: null,
          order: 3,
          description: 'Anything dangerous in it?',
          values: [
            { key: 'glass', name: 'Glass' },
            { key: 'sharp', name: 'Sharp objects' },
          ],
        },
        { variable: true, code: 'seen_at', datatype: 'datetime', required: false, datatype_description: null, order: 4, description: 'When did you see it?' },
      ],
    });
    const xml = readOpen311Xml(await (await fetch(`${base}/services/sanitation.leaf_litter.xml?jurisdiction_id=${code}`)).text());
    expect(xml.root).toBe('service_definition');
    expect((xml.body as { attributes: { values?: unknown[] }[] }).attributes[0]!.values).toEqual([
      { key: 'small', name: 'A little' },
      { key: 'large', name: 'A lot' },
    ]);

    const form = new URLSearchParams({
      jurisdiction_id: code,
      api_key: gw.tenant.publishableKey,
      service_code: 'sanitation.leaf_litter',
      lat: '23.13',
      long: '113.33',
      description: 'Leaves',
      'attribute[size]': 'large',
      'attribute[bags]': '4',
      'attribute[fms_extra_note]': 'ignored',
    });
    form.append('attribute[hazards][]', 'glass');
    form.append('attribute[hazards][]', 'sharp');
    const posted = await fetch(`${base}/requests.json`, { method: 'POST', body: form });
    expect(posted.status).toBe(200);
    const { service_request_id } = ((await posted.json()) as { service_request_id: string }[])[0]!;
    const stored = (await inject(gw, 'GET', `/v1/tickets/by-number/${service_request_id}`, { auth: dispatcher })).body;
    expect(stored.answers).toEqual({ size: 'large', bags: 4, hazards: ['glass', 'sharp'] });

    const missing = new URLSearchParams({
      jurisdiction_id: code,
      api_key: gw.tenant.publishableKey,
      service_code: 'sanitation.leaf_litter',
      lat: '23.13',
      long: '113.33',
    });
    const refused = readOpen311Xml(await (await fetch(`${base}/requests.xml`, { method: 'POST', body: missing })).text());
    expect(refused.body).toEqual([{ code: '400', description: expect.stringMatching(/size/) }]);

    await patch('sanitation.leaf_litter', { disabled: true });
    expect((await fetch(`${base}/services/sanitation.leaf_litter.json?jurisdiction_id=${code}`)).status).toBe(404);
    const after = (await (await fetch(`${base}/services.json?jurisdiction_id=${code}`)).json()) as { service_code: string }[];
    expect(after.map((s) => s.service_code)).not.toContain('sanitation.leaf_litter');
    await patch('sanitation.leaf_litter', { disabled: false });
  });

  it('shows a ticket without credentials only while its category is public now and was when reported', async () => {
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true, categoryVisibility: {} });
    const open311 = async (number: string) => (await fetch(`${gw.url}/open311/v2/requests/${number}.json?jurisdiction_id=${gw.tenant.code}`)).status;
    const define = (isPrivate: boolean) =>
      put('sanitation.lost_item', { ...LEAVES, name: { 'zh-CN': '遗失物品', en: 'Lost item' }, questions: undefined, private: isPrivate });
    expect((await define(false)).status).toBe(200);
    const reportedPublic = (await report({ ...BIN_REPORT, category: 'sanitation.lost_item' })).body;
    expect(await open311(reportedPublic.number)).toBe(200);
    // Made private: the earlier ticket is hidden at once.
    await define(true);
    expect(await open311(reportedPublic.number)).toBe(404);
    const reportedPrivate = (await report({ ...BIN_REPORT, category: 'sanitation.lost_item' })).body;
    // Made public again: the ticket reported while it was private stays hidden, the other shows.
    await define(false);
    expect(await open311(reportedPublic.number)).toBe(200);
    expect(await open311(reportedPrivate.number)).toBe(404);
    // The tenant's policy, when it names the category, decides.
    await gw.services.tenants.updatePolicy(gw.tenant.id, { categoryVisibility: { 'sanitation.lost_item': 'public' } });
    expect(await open311(reportedPrivate.number)).toBe(200);
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: false, categoryVisibility: {} });
  });
});
