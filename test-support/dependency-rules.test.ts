import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Which way the code may depend, checked on every run (.dependency-cruiser.cjs): no module cycle,
 * the gateway's folders in their layers (each imports only those below it), model without I/O,
 * sdk and widget never importing the gateway, published code never importing an example or a
 * test helper, the composition files (app, server, cli...) on top, Redis' key names, scripts and
 * pipelined reads used only by stores. And, computed here, no cycle
 * between the gateway's folders.
 */
const run = promisify(execFile);
const SOURCES = ['packages/model/src', 'packages/sdk/src', 'packages/widget/src', 'packages/gateway/src'];

interface Cruised {
  modules: { source: string; dependencies: { resolved: string; dependencyTypes: string[] }[] }[];
  summary: { error: number; warn: number; ignore: number; violations: { rule: { name: string; severity: string }; from: string; to: string }[] };
}

async function cruise(): Promise<Cruised> {
  const { stdout } = await run('npx', ['depcruise', ...SOURCES, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Cruised;
}

/** The gateway's folders; the files at its top put it together: "(composition)". */
function folderOf(file: string): string | undefined {
  if (!file.startsWith('packages/gateway/src/')) return undefined;
  const parts = file.split('/');
  return parts.length > 4 ? parts[3] : '(composition)';
}

/** The imports between the gateway's folders: "from -> to", each once. */
function folderEdges(cruised: Cruised): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const module of cruised.modules) {
    if (module.source.endsWith('.test.ts')) continue;
    const from = folderOf(module.source);
    if (!from) continue;
    for (const dependency of module.dependencies) {
      const to = folderOf(dependency.resolved);
      if (!to || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

/** The imports between folders that close a loop (both ends reach each other), sorted. */
function cyclicFolderEdges(edges: Map<string, Set<string>>): string[] {
  const reach = (from: string) => {
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length) for (const next of edges.get(stack.pop()!) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next);
    return seen;
  };
  const out: string[] = [];
  for (const [from, targets] of edges) for (const to of targets) if (reach(to).has(from)) out.push(`${from} -> ${to}`);
  return out.sort();
}

describe('the dependency rules', () => {
  it('have no violation, and the gateway folders no cycle', { timeout: 120_000 }, async () => {
    const cruised = await cruise();
    expect(cruised.modules.length).toBeGreaterThan(200);
    expect(cruised.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
    expect(cruised.summary.error).toBe(0);
    // The same seen from above: the imports between folders, of which none may close a loop.
    const edges = folderEdges(cruised);
    expect(edges.get('routes')?.has('tickets')).toBe(true);
    expect(cyclicFolderEdges(edges)).toEqual([]);
  });

  it('would see a loop between folders', () => {
    const edges = new Map([
      ['store', new Set(['redis'])],
      ['redis', new Set(['core'])],
      ['core', new Set(['store'])],
      ['routes', new Set(['store'])],
    ]);
    expect(cyclicFolderEdges(edges)).toEqual(['core -> store', 'redis -> core', 'store -> redis']);
  });
});
