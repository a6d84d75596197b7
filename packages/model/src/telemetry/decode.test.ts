import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from './decode.js';
import { nativeTopic, ownTracksTopic, parseTopic } from './topics.js';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const badge = { id: 'b-7', kind: 'badge' as const };
const native = parseTopic(nativeTopic('t_1', 'badge', 'b-7', 'position'))!;
const decode = (topic: ReturnType<typeof parseTopic>, payload: unknown) =>
  decodeTelemetry(topic!, typeof payload === 'string' ? payload : JSON.stringify(payload), badge, NOW);

describe('OwnTracks payload encryption', () => {
  const topic = parseTopic('owntracks/b-7/phone')!;
  const tst = NOW / 1000 - 60;
  // Stands in for the gateway's secretbox: "sealed:<text>" opens to <text>, anything else does not open.
  const open = (data: string) => (data.startsWith('sealed:') ? data.slice('sealed:'.length) : undefined);
  const sealed = (inner: unknown) => JSON.stringify({ _type: 'encrypted', data: `sealed:${typeof inner === 'string' ? inner : JSON.stringify(inner)}` });
  const decodeSealed = (inner: unknown) => decodeTelemetry(topic, sealed(inner), badge, NOW, undefined, open);

  it('decodes the message inside as if it had come in clear', () => {
    const location = { _type: 'location', lat: 23.1, lon: 113.3, tst, acc: 5, batt: 80, topic: 'owntracks/li/phone' };
    expect(decodeSealed(location)).toEqual(decodeTelemetry(topic, JSON.stringify(location), badge, NOW));
    expect(decodeSealed({ _type: 'transition', lat: 23.1, lon: 113.3, tst, event: 'enter', desc: 'depot' })).toMatchObject({
      type: 'positions',
      records: [{ alarms: ['enter:depot'] }],
    });
    expect(decodeSealed({ _type: 'lwt', tst })).toEqual({ type: 'status', state: 'offline' });
    expect(decodeSealed({ _type: 'waypoint', desc: 'depot' })).toMatchObject({ type: 'ignored', reason: 'unused_type' });
  });

  it('refuses what it cannot open or read, each with its reason', () => {
    expect(decodeTelemetry(topic, sealed({ _type: 'location' }), badge, NOW)).toMatchObject({ type: 'rejected', reason: 'no_key' });
    expect(decodeTelemetry(topic, JSON.stringify({ _type: 'encrypted', data: 'forged' }), badge, NOW, undefined, open)).toMatchObject({
      type: 'rejected',
      reason: 'undecryptable',
    });
    expect(decodeTelemetry(topic, JSON.stringify({ _type: 'encrypted', data: 42 }), badge, NOW, undefined, open)).toMatchObject({ reason: 'schema' });
    expect(decodeSealed('{not json')).toMatchObject({ type: 'rejected', reason: 'not_json' });
    expect(decodeSealed({ _type: 'encrypted', data: 'sealed:{}' })).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decodeSealed({ _type: 'location', lat: 95, lon: 113.3, tst })).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decodeSealed({ _type: 'location', lat: 23.1, lon: 113.3, tst: tst + 3600 })).toMatchObject({ type: 'rejected', reason: 'future_fix' });
  });
});

describe('topics', () => {
  it('parses native, OwnTracks and ThingsBoard topics and nothing else', () => {
    expect(parseTopic('civicloop/t_1/vehicles/v-1/position')).toEqual({
      format: 'native',
      tenantId: 't_1',
      kind: 'vehicle',
      deviceId: 'v-1',
      channel: 'position',
    });
    expect(parseTopic('civicloop/t_1/badges/b-7/cmd')).toMatchObject({ kind: 'badge', channel: 'cmd' });
    expect(parseTopic('owntracks/alice/phone')).toEqual({ format: 'owntracks', user: 'alice', device: 'phone', channel: 'location' });
    expect(parseTopic(ownTracksTopic('alice', 'phone', 'event'))).toMatchObject({ channel: 'event' });
    expect(parseTopic('v1/devices/me/telemetry')).toEqual({ format: 'thingsboard', channel: 'telemetry' });
    expect(parseTopic('owntracks/alice/phone/waypoints')).toEqual({
      format: 'owntracks',
      user: 'alice',
      device: 'phone',
      channel: 'other',
      subtopic: 'waypoints',
    });
    expect(parseTopic('v1/devices/me/rpc/response/17')).toEqual({ format: 'thingsboard', channel: 'other', subtopic: 'rpc/response' });
    expect(parseTopic('v1/devices/me/attributes')).toEqual({ format: 'thingsboard', channel: 'other', subtopic: 'attributes' });
    expect(decode(parseTopic('v1/devices/me/rpc/request/3'), { method: 'getCurrentTime' })).toMatchObject({ type: 'ignored', reason: 'unused_topic' });
    for (const bad of [
      'v1/devices/me/rpc/request/+',
      'v1/devices/me/rpc/response/x',
      'v1/devices/me/claim',
      'v1/devices/other/telemetry',
      'civicloop/t_1/trucks/v-1/position',
      'civicloop/t_1/badges/b-7/secret',
      'civicloop//badges/b-7/position',
      'owntracks/alice',
      'owntracks/a/b/',
      'owntracks/a/b/c/d',
      '$SYS/x',
      'a/b',
    ]) {
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
        {
          deviceId: 'b-7',
          kind: 'badge',
          fixTime: NOW - 1000,
          deviceTime: NOW - 1000,
          serverTime: NOW,
          valid: true,
          lat: 23.13,
          lon: 113.26,
          speedKmh: 12.5,
          course: 90,
          accuracy: 5,
          battery: 80,
          alarms: [],
          source: 'native',
          key: `b-7:${NOW - 1000}`,
        },
      ],
    });
  });

  it('maps OwnTracks (seconds, km/h, unknown fields tolerated) and its transitions', () => {
    const tst = Math.floor(NOW / 1000) - 5;
    const location = decode(parseTopic('owntracks/b-7/phone'), {
      _type: 'location',
      lat: 23.1,
      lon: 113.3,
      tst,
      vel: 4,
      cog: 180,
      batt: 55,
      acc: 9,
      bs: 1,
      tid: 'b7',
      conn: 'm',
      inregions: ['depot'],
      SSID: 'x',
    });
    expect(location.type).toBe('positions');
    if (location.type === 'positions')
      expect(location.records[0]).toMatchObject({ fixTime: tst * 1000, speedKmh: 4, course: 180, battery: 55, accuracy: 9, source: 'owntracks' });
    const transition = decode(parseTopic('owntracks/b-7/phone/event'), {
      _type: 'transition',
      lat: 23.1,
      lon: 113.3,
      tst,
      event: 'enter',
      desc: 'depot',
      acc: 10,
    });
    expect(transition.type === 'positions' && transition.records[0]!.alarms).toEqual(['enter:depot']);
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'lwt', tst })).toEqual({ type: 'status', state: 'offline' });
  });

  it('maps ThingsBoard telemetry in all three shapes', () => {
    const tb = parseTopic('v1/devices/me/telemetry');
    const bare = decode(tb, { latitude: 23.1, longitude: 113.3, speed: 30, batteryLevel: 70, temperature: 21 });
    expect(bare.type === 'positions' && bare.records[0]).toMatchObject({ fixTime: NOW, speedKmh: 30, battery: 70, source: 'thingsboard' });
    const withTs = decode(tb, { ts: NOW - 2000, values: { latitude: 23.1, longitude: 113.3, heading: 45 } });
    expect(withTs.type === 'positions' && withTs.records[0]).toMatchObject({ fixTime: NOW - 2000, course: 45 });
    const batch = decode(tb, [
      { ts: NOW - 3000, values: { latitude: 23.1, longitude: 113.3 } },
      { ts: NOW - 2000, values: { latitude: 23.2, longitude: 113.4 } },
    ]);
    expect(batch.type === 'positions' && batch.records.map((r) => r.fixTime)).toEqual([NOW - 3000, NOW - 2000]);
    expect(decode(tb, { temperature: 21 })).toMatchObject({ type: 'ignored', reason: 'no_position' });
  });

  it('takes what ThingsBoard allows: object and array values, and [{k: v}, {k: v}] as one reading', () => {
    const tb = parseTopic('v1/devices/me/telemetry');
    const nested = decode(tb, { latitude: 23.1, longitude: 113.3, engine: { rpm: 900, temps: [80, 81] }, tags: ['a', 'b'], ok: true, note: null });
    expect(nested.type === 'positions' && nested.records[0]).toMatchObject({ lat: 23.1, lon: 113.3, fixTime: NOW });
    const split = decode(tb, [{ latitude: 23.1 }, { longitude: 113.3 }, { batteryLevel: 40 }]);
    expect(split.type === 'positions' && split.records).toEqual([expect.objectContaining({ lat: 23.1, lon: 113.3, battery: 40, fixTime: NOW })]);
    const timed = decode(tb, { ts: NOW - 1000, values: { latitude: 23.1, longitude: 113.3, extra: { deep: [1, { x: 2 }] } } });
    expect(timed.type).toBe('positions');
    expect(decode(tb, [{ latitude: 23.1 }])).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decode(tb, { latitude: 23.1, longitude: 113.3, batteryLevel: 140 })).toMatchObject({ type: 'rejected', reason: 'out_of_range' });
  });

  it('takes what OwnTracks allows: batt -1, transitions without lat/lon, and its other message types set aside', () => {
    const tst = Math.floor(NOW / 1000) - 5;
    const unknownBattery = decode(parseTopic('owntracks/b-7/phone'), { _type: 'location', lat: 23.1, lon: 113.3, tst, batt: -1 });
    expect(unknownBattery.type === 'positions' && unknownBattery.records[0]!.battery).toBeUndefined();
    expect(
      decode(parseTopic('owntracks/b-7/phone/event'), { _type: 'transition', tst, wtst: tst - 100, acc: 10, event: 'leave', desc: 'beacon', t: 'b' }),
    ).toMatchObject({ type: 'ignored', reason: 'no_position' });
    for (const sub of ['waypoint', 'waypoints', 'status', 'info', 'step', 'beacon', 'dump']) {
      expect(decode(parseTopic(`owntracks/b-7/phone/${sub}`), { _type: sub, anything: [1, 2] }), sub).toMatchObject({
        type: 'ignored',
        reason: 'unused_topic',
      });
    }
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'card', name: 'Li' })).toMatchObject({ type: 'ignored', reason: 'unused_type' });
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'encrypted', data: 'abc' })).toMatchObject({ type: 'rejected', reason: 'no_key' });
    expect(decode(parseTopic('owntracks/b-7/phone'), { lat: 1, lon: 2 })).toMatchObject({ type: 'rejected', reason: 'schema' });
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

  it('refuses fix times no Date can hold and points no map can draw, without throwing', () => {
    const huge = [1e300, 8.64e15 + 1, Number.MAX_SAFE_INTEGER, 2 ** 60];
    for (const ts of huge) expect(decode(native, { ts, lat: 23, lon: 113 }), String(ts)).toMatchObject({ type: 'rejected' });
    expect(decode(native, `{"ts": 1e400, "lat": 23, "lon": 113}`)).toMatchObject({ type: 'rejected' });
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'location', lat: 23, lon: 113, tst: 1e300 })).toMatchObject({ type: 'rejected' });
    expect(decode(parseTopic('v1/devices/me/telemetry'), { ts: 2 ** 62, values: { latitude: 23, longitude: 113 } })).toMatchObject({ type: 'rejected' });
    expect(decode(native, { ts: NOW, lat: 89.5, lon: 113 })).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decode(parseTopic('owntracks/b-7/phone'), { _type: 'location', lat: 89.5, lon: 113, tst: Math.floor(NOW / 1000) })).toMatchObject({
      type: 'rejected',
      reason: 'out_of_range',
    });
  });

  it('never throws, whatever JSON arrives on whichever topic', () => {
    const topics = [
      native,
      parseTopic('civicloop/t_1/badges/b-7/event')!,
      parseTopic('civicloop/t_1/badges/b-7/status')!,
      parseTopic('owntracks/b-7/phone')!,
      parseTopic('owntracks/b-7/phone/event')!,
      parseTopic('owntracks/b-7/phone/waypoint')!,
      parseTopic('v1/devices/me/telemetry')!,
      parseTopic('v1/devices/me/rpc/response/1')!,
    ];
    // Values shaped like each format, with hostile numbers and types in every field.
    const hostileNumber = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(1e300, -1e300, 2 ** 53, 8.64e15 + 1, -0, NOW, Math.floor(NOW / 1000), -1, 91, 181),
    );
    const anyValue = fc.oneof(hostileNumber, fc.string(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
    // Mostly plausible coordinates and times, so that the other fields get looked at too.
    const coord = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(23.1, 113.3, 0, -45.5) }, { weight: 1, arbitrary: anyValue });
    const time = fc.oneof(fc.constantFrom(NOW, NOW - 1000, Math.floor(NOW / 1000), 8.64e15 + 1, 2 ** 53 - 1, 1e21), anyValue);
    const shaped = fc.oneof(
      fc.record({ ts: time, lat: coord, lon: coord, speed: anyValue, battery: anyValue, valid: anyValue }, { requiredKeys: ['lat', 'lon'] }),
      fc.record(
        { type: fc.oneof(fc.constantFrom('sos', 'check_in', 'fall'), fc.string()), ts: time, lat: coord, lon: coord, note: anyValue },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          _type: fc.oneof(fc.constantFrom('location', 'transition', 'lwt', 'waypoint', 'encrypted'), fc.string()),
          lat: coord,
          lon: coord,
          tst: time,
          batt: anyValue,
          created_at: time,
          event: fc.oneof(fc.constant('enter'), anyValue),
          desc: anyValue,
          // What an encrypted message opens to: JSON text of any shape, or anything else.
          data: fc.oneof(fc.json({ maxDepth: 3 }), anyValue),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          ts: time,
          values: fc.record(
            { latitude: coord, longitude: coord, speed: anyValue, heading: anyValue, batteryLevel: anyValue, x: anyValue },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      fc.array(fc.record({ latitude: coord, longitude: coord, ts: time, speed: anyValue }, { requiredKeys: [] }), { maxLength: 5 }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...topics), shaped, (topic, value) => {
        // An opener that opens every string to itself: whatever an encrypted message holds is decoded too.
        const result = decodeTelemetry(topic, JSON.stringify(value) ?? 'null', badge, NOW, undefined, (data) => data);
        expect(['positions', 'event', 'status', 'ignored', 'rejected']).toContain(result.type);
        if (result.type === 'positions') {
          for (const r of result.records) {
            expect(Number.isFinite(r.lat) && Math.abs(r.lat) <= 85.05112878 && Math.abs(r.lon) <= 180).toBe(true);
            expect(new Date(r.fixTime).toISOString()).toMatch(/^\d{4}-/);
          }
        }
      }),
      { numRuns: 3000 },
    );
    // And bytes that are not even text.
    fc.assert(
      fc.property(fc.constantFrom(...topics), fc.uint8Array({ maxLength: 256 }), (topic, bytes) => {
        // Refused, or set aside unread on a topic whose messages are not used at all.
        expect(decodeTelemetry(topic, bytes, badge, NOW).type).toBe(topic.channel === 'other' ? 'ignored' : 'rejected');
      }),
      { numRuns: 500 },
    );
  });
});
