import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repositoryFiles } from './source-files.js';

/** Longer than this, a function says why in the comment above it, with "Long:". */
const MAX_LINES = 80;

/** The comments just above a node (or above the statement that declares it, for a function in a const). */
function commentsAbove(node: ts.Node, source: ts.SourceFile): string {
  let holder: ts.Node = node;
  while (holder.parent && !ts.isSourceFile(holder.parent) && !ts.isBlock(holder.parent) && !ts.isClassDeclaration(holder.parent)) holder = holder.parent;
  const ranges = ts.getLeadingCommentRanges(source.text, holder.getFullStart()) ?? [];
  return ranges.map((r) => source.text.slice(r.pos, r.end)).join('\n');
}

/** A function that is all its enclosing function does (`return new Promise((resolve) => ...)`): that one's reason covers it. */
function isWholeBodyOfExplained(node: ts.Node, source: ts.SourceFile): boolean {
  let outer = node.parent;
  while (outer && !ts.isFunctionLike(outer)) outer = outer.parent;
  if (!outer || !('body' in outer) || !outer.body || !ts.isBlock(outer.body) || outer.body.statements.length !== 1) return false;
  return /\bLong:/.test(commentsAbove(outer, source));
}

const root = fileURLToPath(new URL('..', import.meta.url));

function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(`${root}/${file}`, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body && ts.isBlock(node.body)) {
      const first = source.getLineAndCharacterOfPosition(node.body.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.body.end).line;
      if (last - first > MAX_LINES && !/\bLong:/.test(commentsAbove(node, source)) && !isWholeBodyOfExplained(node, source)) {
        found.push(`${file}:${first + 1} (${last - first} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('production functions', () => {
  it(`are at most ${MAX_LINES} lines, or say why above them ("Long: ...")`, () => {
    const files = repositoryFiles(root).filter(
      (file) => /^(packages|examples)\/[^/]+\/src\/.+\.ts$/.test(file) && !file.endsWith('.test.ts') && !file.endsWith('.d.ts'),
    );
    expect(files.length).toBeGreaterThan(200);
    expect(files.flatMap(longFunctions)).toEqual([]);
  });
});
