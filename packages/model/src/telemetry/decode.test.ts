import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from './decode.js';
import { nativeTopic, ownTracksTopic, parseTopic } from './topics.js';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const badge = { id: 'b-7', kind: 'badge' as const };
const native = parseTopic(nativeTopic('t_1', 'badge', 'b-7', 'position'))!;
const decode = (topic: ReturnType<typeof parseTopic>, payload: unknown) =>
  decodeTelemetry(topic!, typeof payload === 'string' ? payload : JSON.stringify(payload), badge, NOW);

describe('topics', () => {
  it('parses native, OwnTracks and ThingsBoard topics and nothing else', () => {
    expect(parseTopic('civicloop/t_1/vehicles/v-1/position')).toEqual({ format: 'native', tenantId: 't_1', kind: 'vehicle', deviceId: 'v-1', channel: 'position' });
    expect(parseTopic('civicloop/t_1/badges/b-7/cmd')).toMatchObject({ kind: 'badge', channel: 'cmd' });
    expect(parseTopic('owntracks/alice/phone')).toEqual({ format: 'owntracks', user: 'alice', device: 'phone', channel: 'location' });
    expect(parseTopic(ownTracksTopic('alice', 'phone', 'event'))).toMatchObject({ channel: 'event' });
    expect(parseTopic('v1/devices/me/telemetry')).toEqual({ format: 'thingsboard', channel: 'telemetry' });
    for (const bad of ['civicloop/t_1/trucks/v-1/position', 'civicloop/t_1/badges/b-7/secret', 'civicloop//badges/b-7/position', 'owntracks/alice', 'owntracks/a/b/c/d', '$SYS/x', 'a/b']) {
      expect(parseTopic(bad), bad).toBeUndefined();
    }
  });
});

describe('decodeTelemetry', () => {
  it('maps a native fix to the canonical record', () => {
    const result = decode(native, { ts: NOW - 1000, lat: 23.13, lon: 113.26, speed: 12.5, course: 90, accuracy: 5, battery: 80 });
    expect(result).toEqual({
      type: 'positions',
      records: [
        { deviceId: 'b-7', kind: 'badge', fixTime: NOW - 1000, deviceTime: NOW - 1000, serverTime: NOW, valid: true, lat: 23.13, lon: 113.26, speedKmh: 12.5, course: 90, accuracy: 5, battery: 80, alarms: [], source: 'native', key: `b-7:${NOW - 1000}` },
      ],
    });
  });

  it('maps OwnTracks (seconds, km/h, unknown fields tolerated) and its transitions', () => {
    const tst = Math.floor(NOW / 1000) - 5;
    const location = decode(parseTopic('owntracks/b-7/phone'), { _type: 'location', lat: 23.1, lon: 113.3, tst, vel: 4, cog: 180, batt: 55, acc: 9, bs: 1, tid: 'b7', conn: 'm', inregions: ['depot'], SSID: 'x' });
    expect(location.type).toBe('positions');
    if (location.type === 'positions') expect(location.records[0]).toMatchObject({ fixTime: tst * 1000, speedKmh: 4, course: 180, battery: 55, accuracy: 9, source: 'owntracks' });
    const transition = decode(parseTopic('owntracks/b-7/phone/event'), { _type: 'transition', lat: 23.1, lon: 113.3, tst, event: 'enter', desc: 'depot', acc: 10 });
    expect(transition.type === 'positions' && transition.records[0]!.alarms).toEqual(['enter:depot']);
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'lwt', tst })).toEqual({ type: 'status', state: 'offline' });
  });

  it('maps ThingsBoard telemetry in all three shapes', () => {
    const tb = parseTopic('v1/devices/me/telemetry');
    const bare = decode(tb, { latitude: 23.1, longitude: 113.3, speed: 30, batteryLevel: 70, temperature: 21 });
    expect(bare.type === 'positions' && bare.records[0]).toMatchObject({ fixTime: NOW, speedKmh: 30, battery: 70, source: 'thingsboard' });
    const withTs = decode(tb, { ts: NOW - 2000, values: { latitude: 23.1, longitude: 113.3, heading: 45 } });
    expect(withTs.type === 'positions' && withTs.records[0]).toMatchObject({ fixTime: NOW - 2000, course: 45 });
    const batch = decode(tb, [{ ts: NOW - 3000, values: { latitude: 23.1, longitude: 113.3 } }, { ts: NOW - 2000, values: { latitude: 23.2, longitude: 113.4 } }]);
    expect(batch.type === 'positions' && batch.records.map((r) => r.fixTime)).toEqual([NOW - 3000, NOW - 2000]);
    expect(decode(tb, { temperature: 21 })).toMatchObject({ type: 'rejected', reason: 'no_position' });
  });

  it('decodes badge events, with their fix when they carry one', () => {
    const sos = decode(parseTopic('civicloop/t_1/badges/b-7/event'), { type: 'sos', ts: NOW - 100, lat: 23.1, lon: 113.3 });
    expect(sos.type).toBe('event');
    if (sos.type === 'event') expect(sos.record?.alarms).toEqual(['sos']);
    expect(decode(parseTopic('civicloop/t_1/badges/b-7/event'), { type: 'check_in', ts: NOW })).toMatchObject({ type: 'event', event: { type: 'check_in' } });
    expect(decode(parseTopic('civicloop/t_1/badges/b-7/status'), { state: 'offline' })).toEqual({ type: 'status', state: 'offline' });
  });

  it('refuses bad input with a reason', () => {
    const cases: [unknown, string][] = [
      ['not json at all', 'not_json'],
      [{ ts: NOW, lat: '23.1', lon: 113.2 }, 'schema'],
      [{ ts: NOW, lat: 91, lon: 113.2 }, 'schema'],
      ['{"ts": 1, "lat": NaN, "lon": 1}', 'not_json'],
      [{ ts: NOW, lat: null, lon: 113 }, 'schema'],
      [{ ts: NOW + 3600_000, lat: 23, lon: 113 }, 'future_fix'],
      [{ ts: NOW - 400 * 86_400_000, lat: 23, lon: 113 }, 'stale_fix'],
      [{ ts: NOW, lat: 23, lon: 113, extra: true }, 'schema'],
      ['x'.repeat(1024 * 1024), 'too_large'],
    ];
    for (const [payload, reason] of cases) expect(decode(native, payload), JSON.stringify(payload).slice(0, 60)).toMatchObject({ type: 'rejected', reason });
    expect(decode(parseTopic('civicloop/t_1/badges/b-7/cmd'), {})).toMatchObject({ reason: 'not_publishable' });
    expect(decode(parseTopic('v1/devices/me/telemetry'), { latitude: 'north', longitude: 1 })).toMatchObject({ reason: 'schema' });
  });
});
