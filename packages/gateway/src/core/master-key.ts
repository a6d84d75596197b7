import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';
import { Sealer } from '../auth/secrets.js';
import { sealedSecretsOfTenants } from '../store/tenant-store.js';

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

/**
 * Opens every sealed secret of every tenant (token-signing keys, webhook secrets, OwnTracks keys) with the
 * master key, so that a gateway started with the wrong key says so at once, naming the variable,
 * instead of answering 500 on the first request that needs a secret.
 */
export async function assertMasterKeyOpens(redis: Redis | Cluster, masterKey: { key: string; source: string }): Promise<void> {
  const sealer = new Sealer(masterKey.key);
  for (const { tenantId, sealed } of await sealedSecretsOfTenants(redis)) {
    for (const secret of sealed) {
      try {
        sealer.open(secret);
      } catch {
        const where = masterKey.source === 'CIVICLOOP_MASTER_KEY' ? 'CIVICLOOP_MASTER_KEY' : `the key in ${masterKey.source} (CIVICLOOP_MASTER_KEY is unset)`;
        throw new CivicLoopError(
          'CL_ERR_CONFIG',
          `${where} cannot decrypt the secrets stored for tenant ${tenantId}: this Redis was sealed ` +
            `with another master key. Set CIVICLOOP_MASTER_KEY to the key this Redis was written with.`,
        );
      }
    }
  }
}
