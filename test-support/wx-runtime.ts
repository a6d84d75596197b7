import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * WeChat's wx.request and wx.uploadFile as the mini-program documentation describes them
 * (developers.weixin.qq.com: wx.request, RequestTask.onHeadersReceived / onChunkReceived,
 * wx.uploadFile), over real HTTP, for running the SDK's mini-program adapter in Node against a real
 * gateway: callbacks with { data, statusCode, header }, failures as { errMsg: "request:fail ..." },
 * `timeout` in ms, `dataType` "json" (parsed) or anything else (left as text), `responseType`
 * "text" or "arraybuffer", and with `enableChunked` the body handed over chunk by chunk as
 * ArrayBuffers before `success`. Every call is recorded.
 */
export interface WxCall {
  api: 'request' | 'uploadFile';
  url: string;
  method: string;
  header: Record<string, string>;
  enableChunked?: boolean;
}

type Header = Record<string, string>;
const headerOf = (message: IncomingMessage): Header =>
  Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
const toArrayBuffer = (buffer: Buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;

export function wxRuntime() {
  const calls: WxCall[] = [];
  const wx = {
    request(options: {
      url: string;
      method?: string;
      data?: string | object;
      header?: Header;
      timeout?: number;
      dataType?: string;
      responseType?: 'text' | 'arraybuffer';
      enableChunked?: boolean;
      success?: (result: { data: unknown; statusCode: number; header: Header }) => void;
      fail?: (error: { errMsg: string }) => void;
    }) {
      const method = options.method ?? 'GET';
      const header = options.header ?? {};
      calls.push({ api: 'request', url: options.url, method, header, ...(options.enableChunked ? { enableChunked: true } : {}) });
      const headersListeners: ((result: { header: Header; statusCode: number }) => void)[] = [];
      const chunkListeners: ((result: { data: ArrayBuffer }) => void)[] = [];
      let settled = false;
      const fail = (errMsg: string) => {
        if (settled) return;
        settled = true;
        options.fail?.({ errMsg: `request:fail ${errMsg}` });
      };
      const body = options.data === undefined ? undefined : typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
      const request = httpRequest(
        options.url,
        { method, headers: { ...header, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) } },
        (response) => {
          const responseHeader = headerOf(response);
          for (const listener of headersListeners) listener({ header: responseHeader, statusCode: response.statusCode ?? 0 });
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => {
            if (options.enableChunked) for (const listener of chunkListeners) listener({ data: toArrayBuffer(chunk) });
            else parts.push(chunk);
          });
          response.on('end', () => {
            if (settled) return;
            settled = true;
            const all = Buffer.concat(parts);
            let data: unknown = options.responseType === 'arraybuffer' ? toArrayBuffer(all) : all.toString('utf8');
            if ((options.dataType ?? 'json') === 'json' && typeof data === 'string') {
              try {
                data = JSON.parse(data);
              } catch {
                // WeChat leaves text that is not JSON as it is.
              }
            }
            options.success?.({ data, statusCode: response.statusCode ?? 0, header: responseHeader });
          });
          response.on('error', (error) => fail(error.message));
        },
      );
      if (options.timeout) request.setTimeout(options.timeout, () => (request.destroy(), fail('timeout')));
      request.on('error', (error) => fail(error.message));
      if (body !== undefined) request.write(body);
      request.end();
      return {
        abort: () => {
          request.destroy();
          fail('abort');
        },
        onHeadersReceived: (listener: (result: { header: Header; statusCode: number }) => void) => void headersListeners.push(listener),
        onChunkReceived: (listener: (result: { data: ArrayBuffer }) => void) => void chunkListeners.push(listener),
      };
    },

    uploadFile(options: {
      url: string;
      filePath: string;
      name: string;
      header?: Header;
      formData?: Record<string, string>;
      timeout?: number;
      success?: (result: { data: string; statusCode: number }) => void;
      fail?: (error: { errMsg: string }) => void;
    }) {
      const header = options.header ?? {};
      calls.push({ api: 'uploadFile', url: options.url, method: 'POST', header });
      const boundary = `----wxupload${randomBytes(8).toString('hex')}`;
      const file = readFileSync(options.filePath);
      const fields = Object.entries(options.formData ?? {})
        .map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join('');
      const body = Buffer.concat([
        Buffer.from(
          `${fields}--${boundary}\r\ncontent-disposition: form-data; name="${options.name}"; ` +
            `filename="${path.basename(options.filePath)}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
        ),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      let settled = false;
      const request = httpRequest(
        options.url,
        { method: 'POST', headers: { ...header, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length } },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            settled = true;
            options.success?.({ data: Buffer.concat(parts).toString('utf8'), statusCode: response.statusCode ?? 0 });
          });
        },
      );
      const fail = (errMsg: string) => {
        if (settled) return;
        settled = true;
        options.fail?.({ errMsg: `uploadFile:fail ${errMsg}` });
      };
      if (options.timeout) request.setTimeout(options.timeout, () => (request.destroy(), fail('timeout')));
      request.on('error', (error) => fail(error.message));
      request.end(body);
      return { abort: () => (request.destroy(), fail('abort')) };
    },
  };
  return { wx, calls };
}
