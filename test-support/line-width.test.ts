import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repositoryFiles } from './source-files.js';

/** Biome's line width (biome.jsonc): the formatter wraps code, but not a long string, so this checks those too. */
const WIDTH = 160;

describe('source lines', () => {
  it(`are at most ${WIDTH} characters, strings and markup included`, () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const files = repositoryFiles(root).filter((file) => /\.(ts|mjs|js|cjs|css)$/.test(file) && !file.includes('/fixtures/'));
    expect(files.length).toBeGreaterThan(300);
    const over = files.flatMap((file) =>
      readFileSync(`${root}/${file}`, 'utf8')
        .split('\n')
        .flatMap((line, index) => ([...line].length > WIDTH ? [`${file}:${index + 1} (${[...line].length})`] : [])),
    );
    expect(over).toEqual([]);
  });
});
