import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../packages/gateway/src/cli.ts', import.meta.url));

/**
 * The gateway's CLI (`civicloop start`) in a process of its own, so a test can kill it without
 * warning (SIGKILL) and start it again on the same Redis. Resolves once it says it is listening.
 */
export function startGatewayProcess(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C')) resolve(proc);
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${out}`)));
  });
}
