import sharp from 'sharp';
import { signToken, type PartnerKeys, type Ticket } from '@civicloop/model';
import { BIN_REPORT, api, type TestGateway } from './gateway-harness.js';

/** A square around a point, as a zone outline. */
export function square(lon: number, lat: number, half = 0.002): number[][][] {
  return [
    [
      [lon - half, lat - half],
      [lon + half, lat - half],
      [lon + half, lat + half],
      [lon - half, lat + half],
      [lon - half, lat - half],
    ],
  ];
}

export interface PartnerFixture {
  keys: PartnerKeys;
  id: string;
  /** Its estate: the zone only it lists. */
  zoneId: string;
  /** A token it signed for its resident "flat-1201" (both partners have one). */
  resident: string;
  /** The ticket that resident reported, with a photo, a phone number and a description only it knows. */
  ticket: Ticket;
  marker: string;
}

/**
 * Two property platforms in one tenant, each with an estate (zone) and a resident called
 * "flat-1201" who reported a problem with a photo: what the partner tests attack.
 */
export async function twoPartners(gw: TestGateway): Promise<[PartnerFixture, PartnerFixture]> {
  const made: PartnerFixture[] = [];
  for (const [name, lon] of [
    ['Sunny Gardens Property', 113.2644],
    ['Moonlight Estates', 113.3244],
  ] as const) {
    const zoneId = `estate-${made.length + 1}`;
    const zone = await api(gw.url, 'POST', '/v1/zones', {
      auth: gw.tenant.secretKey,
      body: { id: zoneId, name, type: 'community', geometry: { type: 'Polygon', coordinates: square(lon, 23.1291) } },
    });
    if (zone.status !== 201) throw new Error(`zone: ${JSON.stringify(zone.body)}`);
    const created = await api(gw.url, 'POST', '/v1/partners', { auth: gw.tenant.secretKey, body: { name, zones: [zoneId] } });
    if (created.status !== 201) throw new Error(`partner: ${JSON.stringify(created.body)}`);
    const keys = created.body as PartnerKeys;
    const resident = await signToken({ secretKey: keys.secretKey, sub: 'flat-1201', role: 'citizen' });
    const marker = `only-${keys.partner.id}-knows`;
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: made.length * 90, g: 80, b: 40 } } })
      .jpeg()
      .toBuffer();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'before.jpg');
    const upload = await fetch(`${gw.url}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${resident}`, 'x-civicloop-key': keys.publishableKey },
      body: form,
    });
    const { ref } = (await upload.json()) as { ref: string };
    const report = await api(gw.url, 'POST', '/v1/tickets', {
      auth: resident,
      key: keys.publishableKey,
      body: {
        ...BIN_REPORT,
        description: `Bin overflowing, ${marker}`,
        contact: `1380000000${made.length}`,
        channel: 'widget',
        location: { ...BIN_REPORT.location, lon },
        photos: [{ ref }],
      },
    });
    if (report.status !== 201) throw new Error(`report: ${JSON.stringify(report.body)}`);
    made.push({ keys, id: keys.partner.id, zoneId, resident, ticket: report.body as Ticket, marker });
  }
  return [made[0]!, made[1]!];
}
