import { Type, type Static } from '@sinclair/typebox';

/**
 * Off-the-shelf payloads. OwnTracks (the booklet, json.md): unknown fields are tolerated, as the
 * spec asks; `acc`, `alt`, `cog`, `vel` appear only when non-zero; `tst` is in SECONDS.
 */
export const OwnTracksLocation = Type.Object(
  {
    _type: Type.Literal('location'),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    tst: Type.Integer({ minimum: 0, description: 'fix time, epoch seconds' }),
    acc: Type.Optional(Type.Number({ minimum: 0 })),
    alt: Type.Optional(Type.Number()),
    vel: Type.Optional(Type.Number({ minimum: 0, description: 'km/h' })),
    cog: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
    batt: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    bs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })),
    tid: Type.Optional(Type.String()),
    t: Type.Optional(Type.String()),
    conn: Type.Optional(Type.String()),
    created_at: Type.Optional(Type.Integer({ description: 'when the message was built, epoch seconds' })),
  },
  { additionalProperties: true },
);
export type OwnTracksLocation = Static<typeof OwnTracksLocation>;

export const OwnTracksTransition = Type.Object(
  {
    _type: Type.Literal('transition'),
    wtst: Type.Optional(Type.Integer()),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    tst: Type.Integer({ minimum: 0 }),
    acc: Type.Optional(Type.Number({ minimum: 0 })),
    event: Type.Union([Type.Literal('enter'), Type.Literal('leave')]),
    desc: Type.Optional(Type.String()),
    rid: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type OwnTracksTransition = Static<typeof OwnTracksTransition>;

export const OwnTracksLwt = Type.Object({ _type: Type.Literal('lwt'), tst: Type.Optional(Type.Integer()) }, { additionalProperties: true });

/** ThingsBoard-style `v1/devices/me/telemetry` entry: `{ "ts": ms, "values": {...} }` or bare values. */
export const ThingsBoardValues = Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.Number(), Type.String({ maxLength: 256 }), Type.Boolean(), Type.Null()]));
export const ThingsBoardEntry = Type.Object({ ts: Type.Integer({ minimum: 0 }), values: ThingsBoardValues }, { additionalProperties: false });
