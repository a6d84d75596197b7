import { Type } from '@sinclair/typebox';
import { CRS_NAMES, StringEnum } from '@civicloop/model';

/** `?crs=` on reads: the system to give points in, for a basemap that draws in it (geometry/crs-output.ts converts). */
export const CrsQuery = Type.Object({
  crs: Type.Optional(
    StringEnum(CRS_NAMES, { description: 'give points in this coordinate system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu); wgs84 when absent' }),
  ),
});
