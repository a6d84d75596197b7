import { CivicLoopError } from '@civicloop/model';

/**
 * Open311 input as clients really send it: query strings and form bodies where a parameter may
 * repeat, be empty, or carry an unencoded "+" that arrived as a space. The spec says empty
 * optional parameters count as absent, and `service_code` may repeat.
 */
type Raw = Record<string, string | string[] | undefined>;

/** Parameters of one request, query and form body together (the body wins). */
export class Params {
  private readonly values = new Map<string, string[]>();

  constructor(...sources: (Raw | URLSearchParams | undefined | unknown)[]) {
    for (const source of sources) {
      if (!source || typeof source !== 'object') continue;
      const entries: [string, string][] =
        source instanceof URLSearchParams
          ? [...source.entries()]
          : Object.entries(source as Raw).flatMap(([k, v]) =>
              Array.isArray(v) ? v.map((x): [string, string] => [k, String(x)]) : v === undefined ? [] : [[k, String(v)]],
            );
      const fromThis = new Map<string, string[]>();
      for (const [key, value] of entries) {
        // Empty values count as absent.
        if (value.trim() === '') continue;
        fromThis.set(key, [...(fromThis.get(key) ?? []), value]);
      }
      for (const [key, list] of fromThis) this.values.set(key, list);
    }
  }

  /** A parameter that takes one value: repeated with different values, it is refused. */
  one(name: string): string | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    if (new Set(list).size > 1) throw new CivicLoopError('CL_ERR_VALIDATION', `${name} was given more than once with different values; send it once.`);
    return list[0];
  }

  /** A parameter that may repeat and may hold comma-separated values (service_code, status...). */
  many(name: string): string[] | undefined {
    const list = this.values
      .get(name)
      ?.flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    return list && list.length > 0 ? [...new Set(list)] : undefined;
  }

  /**
   * The answers to a service's attributes, `attribute[code]=value` as the spec sends them (and
   * `attribute[code][]=value`, as PHP-style clients send lists), every value given per code.
   */
  attributes(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [name, list] of this.values) {
      const code = /^attribute\[([^\]]{1,60})\](\[\])?$/.exec(name)?.[1];
      if (code) out.set(code, [...(out.get(code) ?? []), ...list]);
    }
    return out;
  }

  /** A date-time: ISO 8601 with a zone; a "+" sent unencoded (and so read as a space) is restored. */
  time(name: string): Date | undefined {
    const raw = this.one(name);
    if (raw === undefined) return undefined;
    const text = raw.trim().replace(/ (\d{2}(:?\d{2})?)$/, '+$1');
    const parsed = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}(:?\d{2})?)?)?$/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(parsed))
      throw new CivicLoopError('CL_ERR_VALIDATION', `${name} must be an ISO 8601 date-time such as 2026-11-22T09:00:00+08:00 (encode "+" as %2B).`);
    return new Date(parsed);
  }

  /** A number in a range; empty is absent, anything else that is not one is refused. */
  number(name: string, min: number, max: number): number | undefined {
    const raw = this.one(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) || !Number.isFinite(value) || value < min || value > max) {
      throw new CivicLoopError('CL_ERR_VALIDATION', `${name} must be a number from ${min} to ${max}.`);
    }
    return value;
  }
}
