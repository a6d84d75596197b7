import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/**
 * A raster tile server of our own (no tiles can be fetched from outside here): every
 * `/tiles/{z}/{x}/{y}.png` is a 256 px PNG, and `/style.json` is a MapLibre style over them. It
 * records which tiles were asked for, so a test can see the map really loaded them.
 */
export async function serveTiles(): Promise<{ origin: string; styleUrl: string; tileUrl: string; requested: string[]; close(): Promise<void> }> {
  const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 232, g: 238, b: 226 } } })
    .composite([
      {
        input: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"><path d="M0 128H256M128 0V256" stroke="#b8c2b0" stroke-width="6"/></svg>',
        ),
        top: 0,
        left: 0,
      },
    ])
    .png()
    .toBuffer();
  const requested: string[] = [];
  let origin = '';
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://tiles').pathname;
    const cors = { 'access-control-allow-origin': '*' };
    if (/^\/tiles\/\d+\/\d+\/\d+\.png$/.test(path)) {
      requested.push(path);
      response.writeHead(200, { ...cors, 'content-type': 'image/png' }).end(tile);
    } else if (path === '/style.json') {
      const style = {
        version: 8,
        sources: { streets: { type: 'raster', tiles: [`${origin}/tiles/{z}/{x}/{y}.png`], tileSize: 256, maxzoom: 19, attribution: 'Test tiles' } },
        layers: [{ id: 'streets', type: 'raster', source: 'streets' }],
      };
      response.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(style));
    } else {
      response.writeHead(404, cors).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    styleUrl: `${origin}/style.json`,
    tileUrl: `${origin}/tiles/{z}/{x}/{y}.png`,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
