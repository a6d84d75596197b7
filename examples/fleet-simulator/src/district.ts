/**
 * Places in Tianhe District, Guangzhou (WGS-84, rounded), used to lay out routes and beats. The
 * simulation needs plausible streets, not survey accuracy.
 */
export interface Point {
  lat: number;
  lon: number;
}

export const PLACES = {
  guangzhouEast: { lat: 23.1509, lon: 113.3246 },
  tianheSports: { lat: 23.1366, lon: 113.3246 },
  tiyuWestTianhe: { lat: 23.1355, lon: 113.3195 },
  shipaiqiao: { lat: 23.1331, lon: 113.3327 },
  gangding: { lat: 23.1339, lon: 113.3391 },
  huachengSquare: { lat: 23.1196, lon: 113.3246 },
  zhujiangNewTown: { lat: 23.1189, lon: 113.3226 },
  cantonTower: { lat: 23.1066, lon: 113.3245 },
  liedeBridge: { lat: 23.1175, lon: 113.342 },
  tianheNorthRd: { lat: 23.143, lon: 113.323 },
} as const satisfies Record<string, Point>;

const P = PLACES;

/** Sweeper and collection routes, driven as loops. */
export const ROUTES: Point[][] = [
  [P.guangzhouEast, P.tianheNorthRd, P.tianheSports, P.huachengSquare, P.cantonTower, P.zhujiangNewTown, P.tiyuWestTianhe, P.tianheNorthRd],
  [P.tiyuWestTianhe, P.tianheSports, P.shipaiqiao, P.gangding, P.liedeBridge, P.huachengSquare, P.zhujiangNewTown],
  [P.huachengSquare, P.liedeBridge, P.gangding, P.shipaiqiao, P.tianheSports],
];

/** Centres of the workers' patrol beats. */
export const BEATS: Point[] = [P.tianheSports, P.huachengSquare, P.shipaiqiao, P.zhujiangNewTown, P.tiyuWestTianhe, P.gangding, P.tianheNorthRd, P.cantonTower];

/** Outline of the simulated area, for dispatcher maps. */
export const BOUNDS = { south: 23.1, north: 23.155, west: 113.31, east: 113.35 };
