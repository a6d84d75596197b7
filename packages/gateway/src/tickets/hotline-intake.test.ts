import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import type { HotlineRecord } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let dispatcher: CivicLoop;
beforeAll(async () => {
  gw = await startTestGateway();
  dispatcher = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: await gw.tenant.token('d-hotline', 'dispatcher') });
});
afterAll(async () => gw?.close());

const good = (externalId: string, extra: Partial<HotlineRecord> = {}): HotlineRecord => ({
  source: '12345',
  externalId,
  category: 'municipal.street_light',
  description: 'Caller reports the street light outside No. 8 has been out for three nights',
  lat: 23.1335,
  lon: 113.3242,
  address: 'No. 8 Tianhe North Road',
  callerName: 'Ms Chen',
  callerPhone: '138****0000',
  ...extra,
});

const hotlineTickets = async () =>
  (await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).tickets.list({ channel: 'hotline' }).toArray()).length;

describe('hotline import', () => {
  it('imports good rows, skips repeated case numbers and reports bad rows one by one', async () => {
    const rows = [
      good('GZ12345-0001'),
      { ...good('GZ12345-0002'), lat: 91 },
      good('GZ12345-0003', { category: 'municipal.no_such_thing' }),
      good('GZ12345-0001'),
      { source: '12319', externalId: 'CG-77', category: 'sanitation.bulky_waste', description: 'Sofa dumped by the bins' },
      good('GZ12345-0004', { description: 'x'.repeat(4001) }),
      'not even an object',
      good('CG-77', { source: '12319', category: 'sanitation.bulky_waste', lon: 113.33 }),
    ];
    const result = await dispatcher.intake.hotline(rows as HotlineRecord[]);
    expect(result.created.map((r) => [r.row, r.externalId])).toEqual([
      [1, 'GZ12345-0001'],
      [8, 'CG-77'],
    ]);
    expect(result.duplicates).toEqual([{ row: 4, externalId: 'GZ12345-0001', id: result.created[0]!.id, number: result.created[0]!.number }]);
    expect(result.errors.map((e) => [e.row, e.code])).toEqual([
      [2, 'CL_ERR_VALIDATION'],
      [3, 'CL_ERR_UNKNOWN_CATEGORY'],
      [5, 'CL_ERR_VALIDATION'],
      [6, 'CL_ERR_VALIDATION'],
      [7, 'CL_ERR_VALIDATION'],
    ]);
    expect(result.errors[0]!.message).toMatch(/^\/lat: /);
    expect(result.errors[2]!.message).toMatch(/lat|lon/);
    expect(await hotlineTickets()).toBe(2);

    const ticket = await dispatcher.tickets.get(result.created[0]!.id);
    expect(ticket).toMatchObject({
      channel: 'hotline',
      externalId: '12345:GZ12345-0001',
      category: 'municipal.street_light',
      reporter: { name: 'Ms Chen', contact: '138****0000' },
      location: { address: 'No. 8 Tianhe North Road' },
    });

    // The same export again, later: nothing new.
    const again = await dispatcher.intake.hotline([good('GZ12345-0001')]);
    expect(again).toMatchObject({ created: [], duplicates: [{ row: 1, id: result.created[0]!.id }], errors: [] });
    expect(await hotlineTickets()).toBe(2);
  });

  it("takes the time the hotline received the call (receivedAt): with its zone, or a wall clock in the tenant's zone", async () => {
    const result = await dispatcher.intake.hotline([
      good('GZ12345-0101', { receivedAt: '2026-11-30T09:15:00+08:00' }),
      // As 12345 case lists export it: no zone, the city's wall clock (the tenant's zone, Asia/Shanghai).
      good('GZ12345-0102', { receivedAt: '2026-11-30 09:16' }),
      good('GZ12345-0103', { receivedAt: 'yesterday at nine' }),
      good('GZ12345-0104', { receivedAt: '2026-02-30 09:15' }),
      good('GZ12345-0105', { receivedAt: '2099-01-01T00:00:00Z' }),
    ]);
    expect(result.created.map((r) => r.externalId)).toEqual(['GZ12345-0101', 'GZ12345-0102']);
    expect(result.errors.map((e) => [e.row, e.code, e.message])).toEqual([
      [3, 'CL_ERR_VALIDATION', expect.stringMatching(/^\/receivedAt: /)],
      [4, 'CL_ERR_VALIDATION', "receivedAt 2026-02-30 09:15 names no time that was (in the tenant's zone, Asia/Shanghai)."],
      [5, 'CL_ERR_VALIDATION', expect.stringContaining('receivedAt 2099-01-01T00:00:00Z is after now')],
    ]);
    // Kept on the ticket, in UTC as every stored time; the ticket itself was made at the import.
    const [zoned, local] = await Promise.all(result.created.map((r) => dispatcher.tickets.get(r.id)));
    expect([zoned!.receivedAt, local!.receivedAt]).toEqual(['2026-11-30T01:15:00.000Z', '2026-11-30T01:16:00.000Z']);
    expect(Date.parse(zoned!.createdAt)).toBeGreaterThan(Date.parse(zoned!.receivedAt!));
  });

  it('takes CSV with a header row, and explains a CSV it cannot read', async () => {
    const csv = [
      'source,externalId,category,description,lat,lon,address,callerPhone',
      '12319,CG-100,sanitation.scattered_litter,"Litter along the canal, both banks",23.141,113.331,Canal path,',
      '12319,CG-101,sanitation.scattered_litter,Litter by the school gate,north,113.331,,',
      '12319,CG-100,sanitation.scattered_litter,"Litter along the canal, both banks",23.141,113.331,Canal path,',
    ].join('\n');
    const result = await dispatcher.intake.hotline(csv);
    expect(result.created.map((r) => r.externalId)).toEqual(['CG-100']);
    expect(result.duplicates.map((r) => r.row)).toEqual([3]);
    expect(result.errors).toEqual([{ row: 2, externalId: 'CG-101', code: 'CL_ERR_VALIDATION', message: expect.stringMatching(/^\/lat: /) }]);
    const broken = await inject(gw, 'POST', '/v1/intake/hotline', {
      auth: gw.tenant.secretKey,
      rawBody: 'source,externalId\n"unterminated,quote',
      headers: { 'content-type': 'text/csv' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('CL_ERR_VALIDATION');
  });

  it('reads a CSV in the character set its Content-Type names, as Excel in Chinese saves it (GBK), and refuses one it cannot read', async () => {
    const utf8 = [
      'source,externalId,category,description,lat,lon,address,callerName',
      '12345,GZ-GBK-1,municipal.street_light,天河北路8号门口路灯连续三晚不亮,23.1337,113.3244,天河北路8号,陈女士',
    ].join('\r\n');
    // Encoded by glibc's iconv, not by us: the bytes a GBK export really has.
    const gbk = execFileSync('iconv', ['-f', 'UTF-8', '-t', 'GB18030'], { input: utf8 });
    expect(gbk.equals(Buffer.from(utf8))).toBe(false);
    const send = (charset: string | undefined) =>
      inject(gw, 'POST', '/v1/intake/hotline', {
        auth: gw.tenant.secretKey,
        rawBody: gbk,
        headers: { 'content-type': `text/csv${charset ? `; charset=${charset}` : ''}` },
      });
    const before = await hotlineTickets();
    // Read as UTF-8 (no charset named), the bytes are not UTF-8: refused with the way out, nothing imported.
    const unnamed = await send(undefined);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringContaining('charset=gb18030') });
    const unknown = await send('klingon');
    expect(unknown.status).toBe(415);
    expect(unknown.body.error).toMatchObject({ code: 'CL_ERR_UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('charset=klingon') });
    expect(await hotlineTickets()).toBe(before);

    const named = await send('GBK');
    expect(named.status).toBe(200);
    expect(named.body.errors).toEqual([]);
    const ticket = await dispatcher.tickets.get(named.body.created[0].id);
    expect(ticket).toMatchObject({
      description: '天河北路8号门口路灯连续三晚不亮',
      location: { address: '天河北路8号' },
      reporter: { name: '陈女士' },
    });
  });

  it('is for dispatchers and servers only, and refuses an oversized batch whole', async () => {
    const worker = await inject(gw, 'POST', '/v1/intake/hotline', { auth: await gw.tenant.token('w-1', 'worker'), body: { records: [good('W-1')] } });
    expect(worker.body.error.code).toBe('CL_ERR_FORBIDDEN');
    const before = await hotlineTickets();
    const huge = await inject(gw, 'POST', '/v1/intake/hotline', {
      auth: gw.tenant.secretKey,
      body: { records: Array.from({ length: 1001 }, (_, i) => good(`BIG-${i}`)) },
    });
    expect(huge.body.error.code).toBe('CL_ERR_VALIDATION');
    expect(await hotlineTickets()).toBe(before);
  });
});
