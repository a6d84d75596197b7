import SwaggerParser from '@apidevtools/swagger-parser';
import { COMMAND_NAMES } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('GET /v1/openapi.json', () => {
  it("is a valid OpenAPI 3.1 document covering every route but Open311, OsmAnd, OwnTracks, ThingsBoard's HTTP API and the widget files", async () => {
    const res = await inject(gw, 'GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    const document = structuredClone(res.body);
    await expect(SwaggerParser.validate(document)).resolves.toBeTruthy();
    expect(res.body.openapi).toBe('3.1.0');
    const paths = Object.keys(res.body.paths);
    for (const expected of [
      '/v1/tickets',
      '/v1/tickets/{id}',
      '/v1/tickets/{id}/history',
      '/v1/events',
      '/v1/categories',
      '/v1/units',
      '/v1/staff',
      '/v1/tenants',
    ]) {
      expect(paths).toContain(expected);
    }
    for (const command of COMMAND_NAMES) expect(paths).toContain(`/v1/tickets/{id}/${command}`);
    // Every route the gateway serves is in it, but those whose protocol is someone else's (Open311,
    // OsmAnd / Traccar Client, OwnTracks' HTTP mode, ThingsBoard's HTTP device API and its
    // provisioning: docs/open311.md, docs/devices.md), the widget's files and the document itself.
    const documentedElsewhere = (route: string) =>
      / \/(open311|widget)\/| \/v1\/(osmand|owntracks)$| \/api\/v1\/(:token\/|provision$)| \/v1\/openapi\.json$/.test(route);
    const missing = [...gw.access.keys()]
      .filter((route) => !documentedElsewhere(route))
      .filter((route) => {
        const [method, path] = route.split(' ') as [string, string];
        return !res.body.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      });
    expect(missing).toEqual([]);
    expect(gw.access.size).toBeGreaterThan(paths.length);
    const create = res.body.paths['/v1/tickets'].post;
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateTicketInput' });
    expect(res.body.components.schemas.CreateTicketInput.required).toEqual(expect.arrayContaining(['category', 'description', 'location']));
    expect(create.responses['422']).toBeDefined();
  });
});
