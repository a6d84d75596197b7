import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { AwsClient } from 'aws4fetch';
import { CivicLoopError } from '@civicloop/model';
import { assertKey, type MediaStore } from './media-store.js';

export interface S3MediaStoreOptions {
  /** e.g. https://s3.eu-central-1.amazonaws.com, https://oss-cn-guangzhou.aliyuncs.com, http://minio:9000 */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** endpoint/bucket/key (MinIO and most self-hosted stores) rather than bucket.endpoint/key. */
  pathStyle: boolean;
  /** MEDIA_S3_TIMEOUT_MS: how long the store may take to answer (to its headers). Default DEFAULT_MEDIA_S3_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** MEDIA_S3_TIMEOUT_MS's default (core/config.ts). */
export const DEFAULT_MEDIA_S3_TIMEOUT_MS = 15_000;

/**
 * Photos in an S3-compatible bucket (AWS S3, MinIO, Aliyun OSS, Tencent COS), through plain
 * signed HTTP requests (aws4fetch signs them with AWS Signature V4). The objects stay private:
 * residents fetch photos through the gateway, as with the disk store.
 */
export class S3MediaStore implements MediaStore {
  private readonly client: AwsClient;
  private readonly base: string;

  constructor(private readonly options: S3MediaStoreOptions) {
    this.client = new AwsClient({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, region: options.region, service: 's3' });
    const endpoint = new URL(options.endpoint);
    this.base = options.pathStyle ? `${endpoint.origin}/${options.bucket}/` : `${endpoint.protocol}//${options.bucket}.${endpoint.host}/`;
  }

  private async send(key: string, init: RequestInit): Promise<Response> {
    assertKey(key);
    // Until the answer's headers only: a photo's bytes then stream to the reader at its own pace.
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_MEDIA_S3_TIMEOUT_MS;
    const answered = new AbortController();
    const timer = setTimeout(() => answered.abort(), timeoutMs);
    try {
      return await this.client.fetch(this.base + key, { ...init, signal: answered.signal });
    } catch (error) {
      if (answered.signal.aborted) {
        throw new CivicLoopError(
          'CL_ERR_UNAVAILABLE',
          `The media store at ${this.options.endpoint} did not answer within MEDIA_S3_TIMEOUT_MS (${timeoutMs} ms); ` +
            'check the store, or raise MEDIA_S3_TIMEOUT_MS.',
        );
      }
      throw new CivicLoopError(
        'CL_ERR_UNAVAILABLE',
        `The media store at ${this.options.endpoint} cannot be reached (${(error as Error).message}); check MEDIA_S3_ENDPOINT.`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private refused(operation: string, key: string, response: Response): CivicLoopError {
    const hint =
      response.status === 403
        ? 'check MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY'
        : response.status === 404
          ? 'check MEDIA_S3_BUCKET'
          : "see the store's logs";
    return new CivicLoopError('CL_ERR_UNAVAILABLE', `The media store refused ${operation} ${key} with HTTP ${response.status}; ${hint}.`);
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const response = await this.send(key, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': contentType } });
    await response.arrayBuffer();
    if (!response.ok) throw this.refused('PUT', key, response);
  }

  async exists(key: string): Promise<boolean> {
    const response = await this.send(key, { method: 'HEAD' });
    if (response.status === 404) return false;
    if (!response.ok) throw this.refused('HEAD', key, response);
    return true;
  }

  async get(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const response = await this.send(key, { method: 'GET' });
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (!response.ok || !response.body) throw this.refused('GET', key, response);
    return { stream: Readable.fromWeb(response.body as NodeReadableStream), size: Number(response.headers.get('content-length') ?? 0) };
  }
}
