import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./xml-simple-client.pl', import.meta.url));

interface Read {
  status: number;
  content_type: string;
  parsed: any;
  parse_error: string | null;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
});
afterAll(async () => gw?.close());

describe('Open311 with a client that speaks only XML (Perl, LWP and XML::Simple, as FixMyStreet reads it)', () => {
  it('lists services, posts a request with its attributes, reads it back and reads the errors', async () => {
    const { stdout } = await run('perl', [CLIENT, `${gw.url}/open311/v2`, gw.tenant.code, gw.tenant.publishableKey, 'sanitation.bin_overflow'], {
      timeout: 60_000,
    });
    const read = JSON.parse(stdout) as Record<string, Read>;
    for (const [call, answer] of Object.entries(read)) {
      expect(answer.parse_error, call).toBeNull();
      expect(answer.content_type, call).toBe('text/xml; charset=utf-8');
    }

    expect(read.discovery!.parsed.endpoints[0]).toMatchObject({ url: `${gw.url}/open311/v2`, formats: ['text/xml', 'application/json'] });
    const services = read.services!.parsed.service as { service_code: string; service_name: string; metadata: string; group: string }[];
    expect(services.length).toBeGreaterThan(40);
    expect(services.find((s) => s.service_code === 'sanitation.bin_overflow')).toMatchObject({ service_name: 'Overflowing bin', metadata: 'false' });
    // No extra questions: an empty list reads as nothing, as FixMyStreet's service list expects.
    expect(read.definition!.parsed).toEqual({ service_code: 'sanitation.bin_overflow', attributes: null });

    expect(read.created!.status).toBe(200);
    const id = read.created!.parsed.request[0].service_request_id as string;
    expect(id).toMatch(/^[A-Z0-9]+-\d{8}-\d{4}$/);
    for (const call of ['one', 'listed']) {
      expect(read[call]!.status, call).toBe(200);
      expect(read[call]!.parsed.request, call).toHaveLength(1);
      expect(read[call]!.parsed.request[0], call).toMatchObject({
        service_request_id: id,
        status: 'open',
        service_code: 'sanitation.bin_overflow',
        description: 'title: 垃圾桶满了\n\ndetail: Bin overflowing & smelly <again>\n\nSubmitted via an XML client',
        lat: '23.1291',
        long: '113.2644',
      });
    }
    // Reporter details are never shown in public reads.
    expect(JSON.stringify(read.one)).not.toMatch(/Mei|Chen|resident@example/);

    // Errors as FixMyStreet reads them: a list of {code, description}.
    expect(read.wrong_key!.status).toBe(403);
    expect(read.wrong_key!.parsed.error).toEqual([{ code: '403', description: expect.stringMatching(/api_key/) }]);
    expect(read.unknown_request!.status).toBe(404);
    expect(read.unknown_request!.parsed.error).toEqual([{ code: '404', description: expect.any(String) }]);
  });
});
