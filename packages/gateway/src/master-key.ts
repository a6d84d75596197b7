import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The configured master key, or one generated once into the data directory (mode 0600). */
export function resolveMasterKey(configured: string | undefined, dataDir: string): { key: string; source: string } {
  if (configured) return { key: configured, source: 'CIVICLOOP_MASTER_KEY' };
  const file = path.join(dataDir, 'master.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: file };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: file };
}
