import { spawn } from 'node:child_process';

/** What curl got back: the status, the CivicLoop-Telemetry header and the body. */
export interface CurlAnswer {
  status: number;
  telemetry: string | undefined;
  body: string;
}

/**
 * A request of ThingsBoard's HTTP device API made with curl, as its reference's examples make
 * them: `curl -s -X POST -H "Content-Type: application/json" -d '<json>' "$HOST/api/v1/$ACCESS_TOKEN/telemetry"`,
 * or the long poll `curl -s "$HOST/api/v1/$ACCESS_TOKEN/rpc?timeout=20000"`.
 */
export async function curl(method: 'GET' | 'POST', url: string, json?: string): Promise<CurlAnswer> {
  return curlHeld(method, url, json).answer;
}

/** The same request left running, as firmware holds a long poll: `answer` settles when curl ends; `kill` ends it early. */
export function curlHeld(method: 'GET' | 'POST', url: string, json?: string): { answer: Promise<CurlAnswer>; kill(): void } {
  const args = ['-s', '-i', '-X', method, url];
  if (json !== undefined) args.push('-H', 'Content-Type: application/json', '-d', json);
  const child = spawn('curl', args);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const answer = new Promise<CurlAnswer>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve(parsed(stdout)));
  });
  return { answer, kill: () => child.kill('SIGKILL') };
}

function parsed(stdout: string): CurlAnswer {
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split);
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]),
    telemetry: /^civicloop-telemetry: (.*)$/im.exec(head)?.[1]?.trim(),
    body: stdout.slice(split + 4),
  };
}
