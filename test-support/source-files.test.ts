import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { repositoryFiles } from './source-files.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A tree of files (path -> content) in a fresh temporary folder. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'civicloop-files-'));
  made.push(root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  return root;
}

describe('repositoryFiles', () => {
  it('leaves out what the ignore files ignore, each nested .gitignore for its own folder', () => {
    const root = tree({
      '.gitignore': 'dist/\n*.log\n.env\nbench/results/\n# a comment\n\n/top-only.txt\n',
      '.git/info/exclude': 'packages/a/dist-before\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.env': 'SECRET=1',
      'top-only.txt': 'anchored at the root',
      'packages/a/top-only.txt': 'kept: the pattern is anchored',
      'packages/a/src/index.ts': 'export {};',
      'packages/a/src/.env': 'a name matches at any depth',
      'packages/a/dist/index.js': 'built',
      'packages/a/dist-before/index.js': 'excluded locally',
      'packages/a/run.log': 'log',
      'bench/results/run.json': '{}',
      'bench/src/results/kept.ts': 'only bench/results is ignored',
      'examples/mini/.gitignore': 'lib/built.js\nvendor/\n',
      'examples/mini/lib/built.js': 'built by the example',
      'examples/mini/lib/kept.js': 'written by hand',
      'examples/mini/vendor/x.js': 'vendored',
      'examples/other/lib/built.js': 'the nested rule is not this folder’s',
      'examples/dist': 'a file named dist: the pattern was for directories only',
    });
    expect(repositoryFiles(root)).toEqual([
      '.gitignore',
      'bench/src/results/kept.ts',
      'examples/dist',
      'examples/mini/.gitignore',
      'examples/mini/lib/kept.js',
      'examples/other/lib/built.js',
      'packages/a/src/index.ts',
      'packages/a/top-only.txt',
    ]);
  });

  it('refuses a pattern form it does not understand instead of guessing', () => {
    const root = tree({ '.gitignore': 'dist/\n**/generated/*.ts\n', 'a.ts': '' });
    expect(() => repositoryFiles(root)).toThrow(/"\*\*\/generated\/\*\.ts" is a pattern repositoryFiles\(\) does not understand/);
  });

  it('lists this repository without git: the sources the line and length checks read', () => {
    const files = repositoryFiles(fileURLToPath(new URL('..', import.meta.url)));
    expect(files).toContain('packages/gateway/src/app.ts');
    expect(files).toContain('test-support/source-files.ts');
    expect(files.some((file) => file.includes('node_modules/') || /(^|\/)dist\//.test(file))).toBe(false);
  });
});
