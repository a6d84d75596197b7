import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every Redis key name the gateway uses is built in `redis/keys.ts` (docs/architecture.md, "Where
 * to add"): a key made elsewhere is missing from the key table and from the docs' key tables, and
 * on a cluster it may land in a slot no script expects. The names all start with `cl:`.
 */
const GATEWAY = path.join(import.meta.dirname, '..', 'packages', 'gateway', 'src');
const KEY_TABLE = path.join('redis', 'keys.ts');

/** Lines of a source file that build a key name themselves: a `cl:` literal, or the key prefix imported. */
export function keysBuiltOutsideTable(source: string): string[] {
  return source.split('\n').filter((line) => /(['"`])cl:/.test(line) || /\bPREFIX\b[^;]*from '[^']*redis\/keys\.js'/.test(line));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

describe('the Redis key table', () => {
  it('is where every key name of the gateway is built', () => {
    const files = sources(GATEWAY);
    expect(files.length).toBeGreaterThan(100);
    const outside = files
      .filter((file) => path.relative(GATEWAY, file) !== KEY_TABLE)
      .flatMap((file) => keysBuiltOutsideTable(readFileSync(file, 'utf8')).map((line) => `${path.relative(GATEWAY, file)}: ${line.trim()}`));
    expect(outside).toEqual([]);
  });

  it("has each of its keys in the docs' key tables", () => {
    const table = readFileSync(path.join(GATEWAY, KEY_TABLE), 'utf8');
    const names = [
      ...new Set([...table.matchAll(/\$\{(base|PREFIX)\}([a-z0-9:_-]+)/g)].map(([, scope, name]) => (scope === 'base' ? `cl:{t}:${name}` : `cl:${name}`))),
    ];
    expect(names.length).toBeGreaterThan(50);
    const docs = readdirSync(path.join(GATEWAY, '..', '..', '..', 'docs'))
      .filter((file) => file.endsWith('.md'))
      .map((file) => readFileSync(path.join(GATEWAY, '..', '..', '..', 'docs', file), 'utf8'))
      .join('\n');
    // A row may name a tenant key whole (`cl:{t}:seen:<id>`) or, after the first, by its tail (`:stats:lock`).
    const documented = (name: string) => docs.includes(`\`${name}`) || (name.startsWith('cl:{t}:') && docs.includes(`\`${name.slice('cl:{t}'.length)}`));
    expect(names.filter((name) => !documented(name))).toEqual([]);
  });

  it('would see a key built beside it', () => {
    expect(keysBuiltOutsideTable("import { PREFIX } from '../redis/keys.js';\nconst limit = 60;")).toHaveLength(1);
    expect(keysBuiltOutsideTable("await redis.get('cl:tenants');")).toHaveLength(1);
    expect(keysBuiltOutsideTable("import { globalKeys } from '../redis/keys.js';\nconst key = globalKeys.tenants;")).toEqual([]);
  });
});
