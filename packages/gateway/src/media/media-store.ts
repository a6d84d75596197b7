import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CivicLoopError } from '@civicloop/model';

/**
 * Where photos live. Keys are `<tenantId>/<sha256>[.thumb].<ext>`, produced only by the gateway
 * and checked against KEY_PATTERN on every use, so no key can climb out of the store. An
 * S3-compatible store implements the same three methods (see docs/media.md).
 */
export interface MediaStore {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** A stream of the object, or undefined when it does not exist. */
  get(key: string): Promise<{ stream: Readable; size: number } | undefined>;
}

export const KEY_PATTERN = /^t_[0-9a-f]{10}\/[0-9a-f]{64}(\.thumb)?\.(jpg|png|webp)$/;

/** The content hash a key is named by: a photo and its thumbnail share it. */
export function photoHashOf(key: string): string {
  return key.slice(key.indexOf('/') + 1, key.indexOf('.'));
}

export function assertKey(key: string): void {
  if (!KEY_PATTERN.test(key)) throw new Error(`invalid media key ${JSON.stringify(key)}`);
}

/** The default store: files under one directory, written atomically (temp file, then rename). */
export class LocalDiskMediaStore implements MediaStore {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertKey(key);
    const resolved = path.resolve(this.root, key);
    // Belt and braces: the pattern already forbids separators and dots that could escape.
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error('media key escapes the store');
    return resolved;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    // A name of its own per write: uploads of the same photo at the same moment each write their
    // own temporary file, and the renames all land the same bytes.
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, file);
    } catch (error) {
      // A full disk leaves the part it wrote: taken away, or every failed upload would keep
      // what little space is left.
      await rm(temp, { force: true }).catch(() => undefined);
      throw diskRefused(error);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.file(key));
      return true;
    } catch {
      return false;
    }
  }

  async get(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const file = this.file(key);
    try {
      const { size } = await stat(file);
      return { stream: createReadStream(file), size };
    } catch {
      return undefined;
    }
  }
}

const DISK_PROBLEM: Record<string, string> = {
  ENOSPC: 'its disk is full',
  EDQUOT: "the disk quota of the gateway's user is spent",
  EROFS: 'its file system is read-only',
  EACCES: 'the gateway may not write there',
  EPERM: 'the gateway may not write there',
};

/** A write the disk refused: not the upload's fault, and retryable once the operator has acted. */
function diskRefused(error: unknown): CivicLoopError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  const problem = DISK_PROBLEM[code] ?? `the write failed (${code})`;
  const refused = new CivicLoopError('CL_ERR_UNAVAILABLE', `The photo store cannot keep photos now: ${problem}; check MEDIA_DIR (or DATA_DIR/media).`);
  // The log line of the failed request shows the cause (its path and errno).
  refused.cause = error;
  return refused;
}
