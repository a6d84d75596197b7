import { describe, expect, it } from 'vitest';
import type { Ticket } from '@civicloop/sdk';
import { boardTicket, dayIn } from './first-screen.js';

const full = {
  id: 'tk_1',
  number: 'DEMO-20261202-0001',
  tenantId: 't_1',
  version: 3,
  status: 'dispatched',
  category: 'sanitation.bin_overflow',
  priority: 'high',
  channel: 'widget',
  description: 'Bin overflowing 垃圾桶满了',
  location: { lat: 23.1, lon: 113.3, address: '天河路 1 号', zoneId: 'tianhe', received: { lat: 23.097, lon: 113.295, crs: 'gcj02' } },
  photos: ['https://media.example/a.jpg'],
  afterPhotos: [],
  reporter: { sub: 'resident-1', role: 'citizen' },
  anonymous: false,
  followers: ['resident-2'],
  unitId: 'sanitation',
  sla: { respondBy: '2026-12-02T10:00:00.000Z', resolveBy: '2026-12-02T14:00:00.000Z' },
  reworkCount: 0,
  reopenCount: 0,
  createdAt: '2026-12-02T09:00:00.000Z',
  updatedAt: '2026-12-02T09:05:00.000Z',
} as unknown as Ticket;

describe('boardTicket', () => {
  it('keeps what the board reads and drops the rest (reporter, followers, the point as received)', () => {
    const slim = boardTicket(full);
    expect(slim).toEqual({
      id: 'tk_1',
      number: 'DEMO-20261202-0001',
      version: 3,
      status: 'dispatched',
      category: 'sanitation.bin_overflow',
      priority: 'high',
      channel: 'widget',
      description: 'Bin overflowing 垃圾桶满了',
      unitId: 'sanitation',
      sla: { respondBy: '2026-12-02T10:00:00.000Z', resolveBy: '2026-12-02T14:00:00.000Z' },
      createdAt: '2026-12-02T09:00:00.000Z',
      updatedAt: '2026-12-02T09:05:00.000Z',
      photos: ['https://media.example/a.jpg'],
      afterPhotos: [],
      location: { lat: 23.1, lon: 113.3, address: '天河路 1 号' },
    });
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(full).length);
  });

  it('leaves absent fields absent rather than undefined', () => {
    const { address: _address, ...location } = full.location;
    const slim = boardTicket({ ...full, location } as Ticket);
    expect(Object.keys(slim.location)).toEqual(['lat', 'lon']);
    expect('assigneeId' in slim).toBe(false);
  });
});

describe('dayIn', () => {
  it('reads the calendar day in the given time zone', () => {
    // 2026-12-02 17:30 UTC is already the 3rd in Shanghai, still the 2nd in New York.
    const at = Date.parse('2026-12-02T17:30:00Z');
    expect(dayIn('Asia/Shanghai', at)).toBe('2026-12-03');
    expect(dayIn('America/New_York', at)).toBe('2026-12-02');
  });
});
