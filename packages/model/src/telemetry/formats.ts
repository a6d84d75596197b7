import { Type, type Static } from '@sinclair/typebox';

const lat = Type.Number({ minimum: -90, maximum: 90 });
const lon = Type.Number({ minimum: -180, maximum: 180 });
const epochSeconds = (description: string) => Type.Integer({ minimum: 0, description });

/**
 * Off-the-shelf payloads. OwnTracks (the booklet, docs/tech/json.md): unknown fields are
 * tolerated, as the booklet asks; `acc`, `alt`, `cog`, `vel` appear only when non-zero; `tst` is
 * in SECONDS; `batt` is -1 when the phone cannot tell.
 */
export const OwnTracksLocation = Type.Object(
  {
    _type: Type.Literal('location'),
    lat,
    lon,
    tst: epochSeconds('fix time, epoch seconds'),
    acc: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000 })),
    alt: Type.Optional(Type.Number({ minimum: -1000, maximum: 10_000 })),
    vel: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'km/h' })),
    cog: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
    batt: Type.Optional(Type.Number({ minimum: -1, maximum: 100, description: 'percent; -1 when unknown' })),
    bs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })),
    tid: Type.Optional(Type.String()),
    t: Type.Optional(Type.String()),
    conn: Type.Optional(Type.String()),
    created_at: Type.Optional(epochSeconds('when the message was built, epoch seconds')),
  },
  { additionalProperties: true },
);
export type OwnTracksLocation = Static<typeof OwnTracksLocation>;

/** A region enter/leave. The booklet makes lat/lon optional (a beacon has no coordinates). */
export const OwnTracksTransition = Type.Object(
  {
    _type: Type.Literal('transition'),
    wtst: Type.Optional(Type.Integer()),
    lat: Type.Optional(lat),
    lon: Type.Optional(lon),
    tst: epochSeconds('event time, epoch seconds'),
    acc: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000 })),
    event: Type.Union([Type.Literal('enter'), Type.Literal('leave')]),
    desc: Type.Optional(Type.String({ maxLength: 200 })),
    rid: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type OwnTracksTransition = Static<typeof OwnTracksTransition>;

export const OwnTracksLwt = Type.Object({ _type: Type.Literal('lwt'), tst: Type.Optional(Type.Integer()) }, { additionalProperties: true });

/**
 * ThingsBoard-style `v1/devices/me/telemetry` with the device's own time: `{ "ts": ms,
 * "values": {...} }`. Values may be any JSON, as in ThingsBoard (objects and arrays included).
 */
export const ThingsBoardTimed = Type.Object(
  { ts: Type.Integer({ minimum: 0, description: 'epoch milliseconds' }), values: Type.Record(Type.String({ maxLength: 256 }), Type.Unknown()) },
  { additionalProperties: false },
);
