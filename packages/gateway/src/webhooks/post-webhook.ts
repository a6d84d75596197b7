import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress, publicOnlyLookup, type Lookup } from '../store/webhook-targets.js';

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  /** DNS resolution to use (tests pass their own); the system's by default. */
  resolve?: Lookup;
}

/**
 * POSTs one delivery, answering its HTTP status. Node's own http(s) client rather than fetch:
 * it takes a lookup function, so the private-address check is made on the very address the
 * socket connects to. Redirects are not followed.
 */
export function postWebhook(post: WebhookPost): Promise<number> {
  const url = new URL(post.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!post.allowPrivate && isIP(host) && isPrivateAddress(host)) return Promise.reject(new Error(`${host} is a loopback or private address`));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
        signal: AbortSignal.timeout(post.timeoutMs),
        // A fresh connection per delivery: a kept-alive socket was checked for another name.
        agent: false,
        ...(post.allowPrivate ? {} : { lookup: publicOnlyLookup(post.resolve) as never }),
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    request.once('error', reject);
    request.end(post.body);
  });
}
