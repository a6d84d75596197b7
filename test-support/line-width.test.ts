import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Biome's line width (biome.jsonc): the formatter wraps code, but not a long string, so this checks those too. */
const WIDTH = 160;

describe('source lines', () => {
  it(`are at most ${WIDTH} characters, strings and markup included`, () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.mjs', '*.js', '*.cjs', '*.css'], { encoding: 'utf8' })
      .split('\n')
      .filter((file) => file && !file.includes('/fixtures/'));
    expect(files.length).toBeGreaterThan(300);
    const over = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) => ([...line].length > WIDTH ? [`${file}:${index + 1} (${[...line].length})`] : [])),
    );
    expect(over).toEqual([]);
  });
});
