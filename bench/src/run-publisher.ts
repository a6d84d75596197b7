import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface PublisherResult {
  sent: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  /** The publisher's own CPU time per message, µs. */
  cpuUsPerMessage: number;
}

let jobs = 0;
/** The job goes through a file in `dir`: thousands of credentials do not fit in an environment variable. */
export function jobFile(dir: string, job: object): string {
  const file = path.join(dir, `job-${jobs++}.json`);
  writeFileSync(file, JSON.stringify(job));
  return file;
}

/**
 * Runs a load process of this folder (publisher.ts, jt808-publisher.ts) on `job`; `startedAt` is
 * when it said `publishing` (its devices connected), so its start-up is not counted as load.
 */
export function runPublisher<T = PublisherResult>(dir: string, job: object, script = 'publisher.ts'): Promise<T & { startedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, script)], {
      env: { ...process.env, JOB_FILE: jobFile(dir, job) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let startedAt = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!startedAt && out.includes('publishing')) startedAt = performance.now();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve({ ...JSON.parse(out.trim().split('\n').at(-1)!), startedAt }) : reject(new Error(`${script} exited with ${code}`)),
    );
  });
}
