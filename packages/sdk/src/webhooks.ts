import type { CreatedWebhook, CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, WebhookPayload } from '@civicloop/model';
import type { RequestOptions, Transport } from './transport.js';

const enc = encodeURIComponent;
const withOptions = (options?: RequestOptions) => (options ? { options } : {});

/** Webhook endpoints of the tenant (secret key or admin token). */
export class Webhooks {
  constructor(private readonly transport: Transport) {}

  /** Registers an endpoint; keep the returned `secret` to verify deliveries (it is shown once). */
  create(input: CreateWebhookInput, options?: RequestOptions): Promise<CreatedWebhook> {
    return this.transport.request({ method: 'POST', path: '/v1/webhooks', body: input, ...withOptions(options) });
  }
  async list(options?: RequestOptions): Promise<Webhook[]> {
    return (await this.transport.request<{ items: Webhook[] }>({ method: 'GET', path: '/v1/webhooks', ...withOptions(options) })).items;
  }
  get(id: string, options?: RequestOptions): Promise<Webhook> {
    return this.transport.request({ method: 'GET', path: `/v1/webhooks/${enc(id)}`, ...withOptions(options) });
  }
  update(id: string, patch: UpdateWebhookInput, options?: RequestOptions): Promise<Webhook> {
    return this.transport.request({ method: 'PATCH', path: `/v1/webhooks/${enc(id)}`, body: patch, ...withOptions(options) });
  }
  async remove(id: string, options?: RequestOptions): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: `/v1/webhooks/${enc(id)}`, ...withOptions(options) });
  }
  async deliveries(id: string, query: { limit?: number } = {}, options?: RequestOptions): Promise<WebhookDelivery[]> {
    return (
      await this.transport.request<{ items: WebhookDelivery[] }>({ method: 'GET', path: `/v1/webhooks/${enc(id)}/deliveries`, query, ...withOptions(options) })
    ).items;
  }
}

export class WebhookSignatureError extends Error {
  readonly code = 'CL_ERR_WEBHOOK_SIGNATURE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
  }
}

export interface VerifyWebhookOptions {
  /** The request body exactly as received (before any JSON parsing). */
  payload: string | Uint8Array;
  /** The CivicLoop-Signature header. */
  signature: string | null | undefined;
  /** The endpoint's secret (whsec_...). */
  secret: string;
  /** Oldest signature accepted, against replays. Default 300 s. */
  toleranceSeconds?: number;
  now?: Date;
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

function sameText(a: string, b: string): boolean {
  // Compares every character whatever the first difference, so timing says nothing about the MAC.
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a delivery's signature (HMAC-SHA256 of "<t>.<body>" with the endpoint secret, and a
 * timestamp within the tolerance) and returns the parsed event. Throws WebhookSignatureError.
 * Web Crypto only: runs in Node 20, browsers and edge runtimes.
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<WebhookPayload> {
  const body = typeof options.payload === 'string' ? options.payload : new TextDecoder().decode(options.payload);
  const parts = (options.signature ?? '').split(',').map((part) => part.trim().split('='));
  const timestamp = Number(parts.find(([k]) => k === 't')?.[1]);
  const macs = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(timestamp) || macs.length === 0)
    throw new WebhookSignatureError('No CivicLoop-Signature header, or not in the form t=<seconds>,v1=<hex>.');
  const age = Math.abs((options.now ?? new Date()).getTime() / 1000 - timestamp);
  if (age > (options.toleranceSeconds ?? 300)) throw new WebhookSignatureError(`The signature is ${Math.round(age)} s old; replayed or the clocks differ.`);
  const key = await globalThis.crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = hex(await globalThis.crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`)));
  if (!macs.some((mac) => sameText(mac, expected))) throw new WebhookSignatureError('The signature does not match this payload and secret.');
  return JSON.parse(body) as WebhookPayload;
}
