/** Size budgets of the widget's files, gzipped bytes (budgets.mjs). */
export declare const BUDGETS: Record<'loader.js' | 'civicloop-widget.js' | 'civicloop-pin-map.js', number>;
export declare function measure(distDir?: string): { file: string; gzipped: number; budget: number; ok: boolean }[];
