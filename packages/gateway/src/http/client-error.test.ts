import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { readOpen311Xml } from '@civicloop/test-support/open311-xml.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

interface RawAnswer {
  status: number;
  type: string;
  body: string;
  /** What Content-Length said. */
  length: number;
}

/** Writes `request` in one piece on a fresh connection and reads the answer until the gateway closes it. */
function sendRaw(request: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
      const type = /\r\ncontent-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
      resolve({ status, type, body, length });
    });
  });
}

/** Sends a request Node's parser refuses and holds the answer to `check`; Redis is left as it was. */
async function refusedUnchanged(request: string, check: (answer: RawAnswer) => void): Promise<void> {
  const before = await snapshotRedis(gw.redis.client);
  const answer = await sendRaw(request);
  expect(Buffer.byteLength(answer.body), 'Content-Length matches the body').toBe(answer.length);
  check(answer);
  expect(await snapshotRedis(gw.redis.client)).toEqual(before);
}

const longQuery = `q=${'x'.repeat(20_000)}`;
const longCookie = `Cookie: a=${'y'.repeat(20_000)}\r\n`;
const catalogueError = (answer: RawAnswer) => JSON.parse(answer.body).error as { code: string; status: number; message: string };

describe('requests Node cannot parse', () => {
  it('a request line or headers over the limit: 431 CL_ERR_HEADERS_TOO_LARGE, its body saying the same status', async () => {
    for (const request of [`GET /v1/tickets?${longQuery} HTTP/1.1\r\nHost: gw\r\n\r\n`, `GET /v1/health HTTP/1.1\r\nHost: gw\r\n${longCookie}\r\n`]) {
      await refusedUnchanged(request, (answer) => {
        expect(answer.status).toBe(431);
        expect(answer.type).toBe('application/json');
        expect(catalogueError(answer)).toMatchObject({ code: 'CL_ERR_HEADERS_TOO_LARGE', status: 431 });
      });
    }
  });

  it('malformed HTTP: 400 CL_ERR_VALIDATION', async () => {
    await refusedUnchanged('GET /v1/health HTTP/1.1\r\nHost: gw\r\nNot a header line\r\n\r\n', (answer) => {
      expect(answer.status).toBe(400);
      expect(catalogueError(answer)).toMatchObject({ code: 'CL_ERR_VALIDATION', status: 400, message: 'The request is not valid HTTP/1.1.' });
    });
  });

  it("under /open311/: the spec's error document, in the format the URL asks for", async () => {
    for (const path of ['/open311/v2/requests.xml', '/open311/v2/requests', '/open311/v2/tokens/abc.yaml']) {
      await refusedUnchanged(`GET ${path}?${longQuery} HTTP/1.1\r\nHost: gw\r\n\r\n`, (answer) => {
        expect(answer.status).toBe(431);
        expect(answer.type).toBe('text/xml; charset=utf-8');
        expect(readOpen311Xml(answer.body).body).toEqual([{ code: '431', description: expect.stringContaining('larger than the gateway accepts') }]);
      });
    }
    await refusedUnchanged(`GET /open311/v2/requests.json?${longQuery} HTTP/1.1\r\nHost: gw\r\n\r\n`, (answer) => {
      expect(answer.status).toBe(431);
      expect(answer.type).toBe('application/json; charset=utf-8');
      expect(JSON.parse(answer.body)).toEqual([{ code: 431, description: expect.stringContaining('larger than the gateway accepts') }]);
    });
    await refusedUnchanged(`POST /open311/v2/requests.xml HTTP/1.1\r\nHost: gw\r\n${longCookie}\r\n`, (answer) => {
      expect(answer.status).toBe(431);
      expect(readOpen311Xml(answer.body).body).toEqual([{ code: '431', description: expect.any(String) }]);
    });
    await refusedUnchanged('GET /open311/v2/services.json HTTP/1.1\r\nHost: gw\r\nNot a header line\r\n\r\n', (answer) => {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual([{ code: 400, description: 'The request is not valid HTTP/1.1.' }]);
    });
  });

  it('a request far over the limit: a well-formed 431 whichever of its bytes Node held when it gave up', async () => {
    // 80 KB may arrive in one read or several, so those bytes may hold the whole path (Open311's
    // JSON, as asked), the request line cut off before the path's extension (Open311's XML, the
    // spec's default, as the extension cannot be read), or the middle of the target (the catalogue's JSON).
    for (let i = 0; i < 5; i++) {
      await refusedUnchanged(`GET /open311/v2/requests.json?q=${'z'.repeat(80_000)} HTTP/1.1\r\nHost: gw\r\n\r\n`, (answer) => {
        expect(answer.status).toBe(431);
        if (answer.type.startsWith('text/xml')) {
          expect(readOpen311Xml(answer.body).body).toEqual([{ code: '431', description: expect.any(String) }]);
        } else if (answer.type.startsWith('application/json; charset=utf-8')) {
          expect(JSON.parse(answer.body)).toEqual([{ code: 431, description: expect.any(String) }]);
        } else {
          expect(catalogueError(answer).code).toBe('CL_ERR_HEADERS_TOO_LARGE');
        }
      });
    }
  });

  it('the gateway still serves afterwards', async () => {
    expect((await fetch(`${gw.url}/v1/health`)).status).toBe(200);
  });
});
