import { CivicLoop, type CivicLoopOptions } from './client.js';
import { ConnectionError, InvalidRequestError, TimeoutError, errorFromResponse } from './errors.js';
import type { UploadedPhoto } from './media.js';
import { portableRuntime } from './portable.js';
import type { SignalLike } from './runtime.js';

/**
 * The SDK in a WeChat mini-program. The runtime has no fetch, URL, FormData, AbortController,
 * TextDecoder or streams: requests go over wx.request, the event stream over wx.request with
 * enableChunked (chunks as they arrive), photos over wx.uploadFile from the file path
 * wx.chooseMedia gives.
 *
 * ```ts
 * import { WechatCivicLoop } from '@civicloop/sdk/wechat';
 * const civicloop = new WechatCivicLoop(wx, { baseUrl: 'https://civicloop.example.gov', apiKey: 'cl_pk_...', token: () => getResidentToken() });
 * const photo = await civicloop.uploadPhoto(tempFilePath);
 * ```
 */

type Header = Record<string, string>;

/** The parts of `wx` used here, as miniprogram-api-typings declares them (a WechatMiniprogram.Wx fits). */
export interface WxLike {
  request(options: {
    url: string;
    /** WeChat's list: no PATCH. */
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'TRACE' | 'CONNECT';
    data?: string;
    header?: Header;
    timeout?: number;
    dataType?: string;
    responseType?: 'text' | 'arraybuffer';
    enableChunked?: boolean;
    success?(result: { data: string | ArrayBuffer | Record<string, unknown>; statusCode: number; header: Header }): void;
    fail?(error: { errMsg: string }): void;
  }): WxRequestTask;
  uploadFile(options: {
    url: string;
    filePath: string;
    name: string;
    header?: Header;
    timeout?: number;
    success?(result: { data: string; statusCode: number }): void;
    fail?(error: { errMsg: string }): void;
  }): { abort(): void };
}

export interface WxRequestTask {
  abort(): void;
  onHeadersReceived(listener: (result: { header: Header; statusCode?: number }) => void): void;
  onChunkReceived(listener: (result: { data: ArrayBuffer }) => void): void;
}

/** A response as the SDK reads one: status, headers, the body as text or as chunks. */
interface ResponseLike {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } } | null;
}

const headerReader = (header: Header) => {
  const lower = new Map(Object.entries(header ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null };
};

/** wx's failure as the SDK's error: a timeout (errMsg "... timeout") or the network. */
function failure(errMsg: string): Error {
  const error = new Error(`wx.request failed: ${errMsg}`);
  if (/time ?out/i.test(errMsg)) error.name = 'TimeoutError';
  return error;
}

/**
 * fetch, as far as the SDK uses it, over wx.request. A request that asks for text/event-stream
 * is made with enableChunked, and its body read chunk by chunk as WeChat hands them over.
 */
export function wechatFetch(wx: WxLike) {
  return (url: string, init: WxFetchInit = {}): Promise<ResponseLike> => requestThroughWx(wx, url, init);
}

type WxFetchInit = { method?: string; headers?: Header; body?: unknown; signal?: SignalLike; timeoutMs?: number };

// Long: one wx.request call translated both ways (a fetch request in, a Response out), as a single promise.
function requestThroughWx(wx: WxLike, url: string, init: WxFetchInit): Promise<ResponseLike> {
  return new Promise((resolve, reject) => {
    const header = init.headers ?? {};
    const method = (init.method ?? 'GET') as 'GET';
    // wx.request sends no PATCH: the calls that need it (changing units, staff, zones, categories,
    // devices, webhooks, the policy) are for staff and servers, not for a mini-program.
    if ((method as string) === 'PATCH')
      return reject(
        new InvalidRequestError({
          code: 'CL_ERR_RUNTIME_UNSUPPORTED',
          message: `wx.request cannot send PATCH (${url}); make this change from a server or the console.`,
          status: 0,
        }),
      );
    const data = typeof init.body === 'string' ? init.body : undefined;
    const timeout = init.timeoutMs;
    if (header.accept !== 'text/event-stream') {
      const task = wx.request({
        url,
        method,
        header,
        ...(data !== undefined ? { data } : {}),
        ...(timeout ? { timeout } : {}),
        // Any dataType but "json": the SDK parses the text itself, errors included.
        dataType: 'text',
        responseType: 'text',
        success: (result) => {
          const text = typeof result.data === 'string' ? result.data : JSON.stringify(result.data);
          resolve({
            ok: result.statusCode >= 200 && result.statusCode < 300,
            status: result.statusCode,
            headers: headerReader(result.header),
            text: async () => text,
            body: null,
          });
        },
        fail: (error) => reject(failure(error.errMsg)),
      });
      init.signal?.addEventListener('abort', () => task.abort(), { once: true });
      return;
    }
    // The event stream: chunks queue up until the SDK reads them.
    const chunks: Uint8Array[] = [];
    let ended = false;
    let broken: Error | undefined;
    let wake: (() => void) | undefined;
    let answered = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const reader = {
      async read(): Promise<{ done: boolean; value?: Uint8Array }> {
        while (chunks.length === 0 && !ended && !broken) await new Promise<void>((r) => (wake = r));
        if (chunks.length > 0) return { done: false, value: chunks.shift()! };
        if (broken) throw broken;
        return { done: true };
      },
    };
    const respond = (status: number, responseHeader: Header) => {
      if (answered) return;
      answered = true;
      resolve({
        ok: status >= 200 && status < 300,
        status,
        headers: headerReader(responseHeader),
        body: { getReader: () => reader },
        text: async () => {
          const decode = portableRuntime.utf8Decoder();
          let text = '';
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return text;
            text += decode(value!);
          }
        },
      });
    };
    const task = wx.request({
      url,
      method,
      header,
      enableChunked: true,
      responseType: 'arraybuffer',
      dataType: 'text',
      success: (result) => {
        respond(result.statusCode, result.header);
        ended = true;
        notify();
      },
      fail: (error) => {
        broken = failure(error.errMsg);
        if (!answered) reject(broken);
        notify();
      },
    });
    task.onHeadersReceived((result) => respond(result.statusCode ?? 200, result.header));
    task.onChunkReceived((result) => {
      chunks.push(new Uint8Array(result.data));
      notify();
    });
    init.signal?.addEventListener(
      'abort',
      () => {
        task.abort();
        ended = true;
        notify();
      },
      { once: true },
    );
  });
}

/** The CivicLoop client for a WeChat mini-program: everything the SDK does, plus photos from a file path. */
export class WechatCivicLoop extends CivicLoop {
  constructor(
    private readonly wx: WxLike,
    options: Omit<CivicLoopOptions, 'fetch'>,
  ) {
    super({ ...options, fetch: wechatFetch(wx) as unknown as typeof fetch, runtime: portableRuntime });
  }

  /** Uploads the photo at a mini-program file path (wx.chooseMedia's tempFilePath) with wx.uploadFile. */
  async uploadPhoto(filePath: string, options: { timeoutMs?: number } = {}): Promise<UploadedPhoto> {
    const header = await this.transport.headers();
    delete header['content-type'];
    const timeout = options.timeoutMs ?? this.transport.options.timeoutMs;
    const { statusCode, data } = await new Promise<{ statusCode: number; data: string }>((resolve, reject) => {
      this.wx.uploadFile({
        url: `${this.transport.options.baseUrl}/v1/media`,
        filePath,
        name: 'file',
        header,
        timeout,
        success: resolve,
        fail: (error) => reject(failure(error.errMsg)),
      });
    }).catch((error: Error) => {
      throw error.name === 'TimeoutError'
        ? new TimeoutError({ code: 'CL_ERR_TIMEOUT', message: `No response within ${timeout} ms (timeoutMs).`, status: 0, retryable: true }, { cause: error })
        : new ConnectionError(
            { code: 'CL_ERR_NETWORK', message: `Could not reach ${this.transport.options.baseUrl}: ${error.message}`, status: 0, retryable: true },
            { cause: error },
          );
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    if (statusCode >= 200 && statusCode < 300) return parsed as UploadedPhoto;
    throw errorFromResponse(statusCode, (parsed as { error?: never } | undefined)?.error, undefined);
  }
}
