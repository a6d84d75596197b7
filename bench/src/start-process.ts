import { createWriteStream } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts a server process with `env` added to this one's, resolved once its standard output has
 * said `readyText`. `copyOutputTo`: a file its standard output is appended to as well (what node's
 * --trace-* options print, say).
 */
export function startProcess(command: string, args: string[], env: Record<string, string>, readyText: string, copyOutputTo?: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    // Piped, not written chunk by chunk: this process runs autocannon, whose turns a synchronous write would take.
    if (copyOutputTo) child.stdout!.pipe(createWriteStream(copyOutputTo, { flags: 'a' }));
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      // Only until it is ready: a process that prints on and on must not fill this one's memory.
      if (out.includes(readyText)) return;
      out += chunk.toString();
      if (out.includes(readyText)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
  });
}
