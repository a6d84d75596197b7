import type { CrsName } from '@civicloop/model';

/** `?crs=` for a read that takes one, when asked for (points given in that system). */
export const crsQuery = (options: { crs?: CrsName } | undefined) => (options?.crs ? { query: { crs: options.crs } } : {});
