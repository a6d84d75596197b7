import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository's files, as relative paths with forward slashes, found by walking the tree and
 * leaving out what the `.gitignore` files (each for its own folder) and `.git/info/exclude`,
 * where there is one, ignore. Not `git ls-files`: the unit tests that check every source file
 * must run where git is not installed, and in a copy that is not a git checkout (a source archive).
 *
 * Only the pattern forms this repository's ignore files use are understood: a directory (`dist/`,
 * `bench/results/`), a name or a path (`.env`, `miniprogram/lib/civicloop.js`) and an extension
 * (`*.log`). Any other form throws, so a new kind of pattern cannot quietly let ignored files in
 * or keep real ones out.
 */
export function repositoryFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, outer: IgnoreRules[]) => {
    const rules = [...outer, ...ignoreFile(root, dir ? `${dir}/.gitignore` : '.gitignore', dir)];
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && !rules.some((r) => r.ignores(relative, true))) walk(relative, rules);
      } else if (entry.isFile() && !rules.some((r) => r.ignores(relative, false))) {
        found.push(relative);
      }
    }
  };
  walk('', ignoreFile(root, '.git/info/exclude', ''));
  return found.sort();
}

interface IgnoreRules {
  /** `relative`: from the root. */
  ignores(relative: string, isDirectory: boolean): boolean;
}

/** The rules of one ignore file, for the folder `base` (from the root; '' for the root) and below. */
function ignoreFile(root: string, file: string, base: string): IgnoreRules[] {
  const full = path.join(root, file);
  if (!existsSync(full)) return [];
  // 'dir': the pattern ended in a slash, so it ignores directories only.
  const names = new Map<string, 'any' | 'dir'>();
  const paths = new Map<string, 'any' | 'dir'>();
  const extensions: string[] = [];
  for (const raw of readFileSync(full, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (/^\*\.[\w.-]+$/.test(line)) {
      extensions.push(line.slice(1));
      continue;
    }
    if (/[*?[\]!\\]/.test(line)) throw new Error(`${file}: "${line}" is a pattern repositoryFiles() does not understand; teach it that form`);
    const matches = line.endsWith('/') ? 'dir' : 'any';
    const bare = line.replace(/\/$/, '');
    // As in git: a slash before the end anchors the pattern at the ignore file's folder; otherwise it is a name.
    if (bare.includes('/')) paths.set(bare.replace(/^\//, ''), matches);
    else names.set(bare, matches);
  }
  const prefix = base ? `${base}/` : '';
  return [
    {
      ignores(relative, isDirectory) {
        if (!relative.startsWith(prefix)) return false;
        const inside = relative.slice(prefix.length);
        const name = inside.slice(inside.lastIndexOf('/') + 1);
        const byName = names.get(name);
        const byPath = paths.get(inside);
        return (
          (byName !== undefined && (byName === 'any' || isDirectory)) ||
          (byPath !== undefined && (byPath === 'any' || isDirectory)) ||
          (!isDirectory && extensions.some((ext) => name.endsWith(ext)))
        );
      },
    },
  ];
}
