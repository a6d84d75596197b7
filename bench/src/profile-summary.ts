import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (node --cpu-prof) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where sampled time went: µs per request by part, and the costliest functions of the server's own code. */
export interface ProfileSummary {
  perRequestUs: Map<string, number>;
  ownFunctionsUs: [string, number][];
  busyUs: number;
}

/** Which part of the process a sample's innermost frame belongs to. */
function partOf(url: string, functionName: string): string {
  if (/\/packages\/(gateway|model)\//.test(url)) return 'own code (gateway, model)';
  if (/bench\/src\//.test(url)) return 'own code (the floor route)';
  if (/node_modules\/(ioredis|redis-parser|denque|cluster-key-slot|standard-as-callback)\//.test(url)) return 'ioredis';
  if (/node_modules\/(fastify|@fastify|ajv|fast-json-stringify|find-my-way|secure-json-parse|avvio|fast-uri|toad-cache|@sinclair)/.test(url))
    return 'fastify (routing, parsing, validation, reply)';
  if (/node_modules\/pino/.test(url)) return 'pino';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url.startsWith('node:')) return "node's http, streams, events and timers";
  if (['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String'].includes(functionName)) return 'socket writes';
  return 'other native code and V8';
}

/**
 * Sums a profile's samples between the first and the last whose stack holds `windowFrame` (the
 * route handler: so the start-up and the shutdown are left out), per part and per request.
 */
export function summariseProfile(file: string, windowFrame: string, requests: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const underWindowFrame = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.functionName === windowFrame) return true;
    return false;
  };
  const first = profile.samples.findIndex(underWindowFrame);
  const last = profile.samples.findLastIndex(underWindowFrame);
  const parts = new Map<string, number>();
  const own = new Map<string, number>();
  let busyUs = 0;
  for (let i = Math.max(first, 0); i <= last; i++) {
    const { functionName, url, lineNumber } = byId.get(profile.samples[i]!)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const part = partOf(url, functionName);
    parts.set(part, (parts.get(part) ?? 0) + us);
    if (part.startsWith('own code')) {
      const where = `${functionName || '(anonymous)'} (${url.split('/').at(-1)}:${lineNumber + 1})`;
      own.set(where, (own.get(where) ?? 0) + us);
    }
  }
  const perRequest = (entries: Iterable<[string, number]>) => [...entries].map(([k, us]) => [k, us / requests] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { perRequestUs: new Map(perRequest(parts)), ownFunctionsUs: perRequest(own), busyUs };
}
