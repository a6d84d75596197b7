import { describe, expect, it } from 'vitest';
import type { Ticket } from '@civicloop/sdk';
import { ageText, deadlineText, nextDeadline, span } from './deadlines.js';
import { inZone, matches, NO_FILTER } from './filters.js';

const NOW = Date.parse('2026-12-02T06:00:00Z');
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();
const sla = { respondBy: at(-30), arriveBy: at(30), resolveBy: at(150) };

describe('the deadline a card shows', () => {
  it('is the earliest one still to meet, so a breached respond deadline is not hidden behind hours left to resolve', () => {
    expect(nextDeadline({ status: 'dispatched', sla }, NOW)).toMatchObject({ kind: 'respond', breached: true, left: -30 * 60_000 });
    expect(deadlineText({ status: 'dispatched', sla }, NOW)).toEqual({ text: 'Respond 响应: overdue 30m 已超时', breached: true });
    // Accepted: responding is done; arriving is next.
    expect(deadlineText({ status: 'accepted', sla }, NOW)).toEqual({ text: 'Arrive 到场: 30m left', breached: false });
    expect(deadlineText({ status: 'on_site', sla }, NOW)).toEqual({ text: 'Resolve 办结: 2h 30m left', breached: false });
    expect(deadlineText({ status: 'rework', sla: { ...sla, resolveBy: at(-61) } }, NOW)).toEqual({
      text: 'Resolve 办结: overdue 1h 1m 已超时',
      breached: true,
    });
  });

  it('says what a ticket without a running deadline is waiting for', () => {
    expect(deadlineText({ status: 'reported' }, NOW).text).toBe('Not dispatched 待派');
    expect(deadlineText({ status: 'resolved', sla }, NOW)).toEqual({ text: 'Awaiting verification 待核查', breached: false });
    expect(nextDeadline({ status: 'resolved', sla }, NOW)).toBeUndefined();
  });

  it('reads spans in days, hours and minutes, and ages from the report', () => {
    expect(span(59_999)).toBe('0m');
    expect(span(-45 * 60_000)).toBe('45m');
    expect(span(26 * 3_600_000 + 5 * 60_000)).toBe('1d 2h');
    expect(ageText(at(-65), NOW)).toBe('age 1h 5m');
  });
});

describe('board filters', () => {
  const square = {
    id: 'z',
    rings: [
      [
        [
          [113.2, 23.0],
          [113.3, 23.0],
          [113.3, 23.1],
          [113.2, 23.1],
          [113.2, 23.0],
        ],
        [
          [113.24, 23.04],
          [113.26, 23.04],
          [113.26, 23.06],
          [113.24, 23.06],
          [113.24, 23.04],
        ],
      ],
    ] as [number, number][][][],
  };
  const ticket = (over: Partial<Ticket>): Ticket =>
    ({
      id: 't',
      number: 'DEMO-20261202-0007',
      status: 'dispatched',
      category: 'sanitation.bin_overflow',
      channel: 'widget',
      description: 'Bin full by the gate',
      location: { lat: 23.02, lon: 113.22 },
      unitId: 'sanitation',
      sla,
      ...over,
    }) as Ticket;

  it('finds by number or text, unit, category, channel, state, overdue and zone (holes excluded)', () => {
    const zones = new Map([['z', square]]);
    const t = ticket({});
    expect(matches(t, NO_FILTER, zones, NOW)).toBe(true);
    expect(matches(t, { ...NO_FILTER, text: '0007' }, zones, NOW)).toBe(true);
    expect(matches(t, { ...NO_FILTER, text: 'gate' }, zones, NOW)).toBe(true);
    expect(matches(t, { ...NO_FILTER, text: '0008' }, zones, NOW)).toBe(false);
    expect(matches(t, { ...NO_FILTER, unit: 'municipal' }, zones, NOW)).toBe(false);
    expect(matches(t, { ...NO_FILTER, category: 'sanitation.bin_overflow', channel: 'widget', state: 'dispatched' }, zones, NOW)).toBe(true);
    expect(matches(t, { ...NO_FILTER, channel: 'hotline' }, zones, NOW)).toBe(false);
    expect(matches(t, { ...NO_FILTER, overdueOnly: true }, zones, NOW)).toBe(true);
    expect(matches(ticket({ status: 'on_site' }), { ...NO_FILTER, overdueOnly: true }, zones, NOW)).toBe(false);
    expect(matches(t, { ...NO_FILTER, zone: 'z' }, zones, NOW)).toBe(true);
    expect(inZone([113.25, 23.05], square)).toBe(false);
    expect(matches(ticket({ location: { lat: 23.2, lon: 113.22 } }), { ...NO_FILTER, zone: 'z' }, zones, NOW)).toBe(false);
    expect(matches(t, { ...NO_FILTER, zone: 'unknown' }, zones, NOW)).toBe(false);
  });
});
