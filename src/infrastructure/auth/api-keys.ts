import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { apiKeySchema, ConfigError, type AppConfig } from '../config/config.js';
import type { Principal } from '../../domain/access.js';

/** Keys are kept only as SHA-256 digests and compared in constant time. */
interface KeyEntry {
  digest: Buffer;
  principal: Principal;
}

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

function toEntry(e: z.infer<typeof apiKeySchema>, index: number): KeyEntry {
  const d = digest(e.key);
  return {
    digest: d,
    principal: {
      keyId: `key-${index + 1}-${d.toString('hex').slice(0, 8)}`,
      role: e.role,
      coaches: e.coaches.includes('*') ? '*' : new Set(e.coaches),
      tier: e.tier,
    },
  };
}

export class ApiKeys {
  private constructor(
    private readonly entries: KeyEntry[],
    /** The admin key file in DATA_DIR when no key is configured, and whether this start created it. */
    readonly keyFile?: { path: string; generated: boolean },
  ) {}

  /**
   * API_KEYS, API_KEYS_FILE and ADMIN_API_KEY, together. With none, the first start generates an admin key in
   * DATA_DIR (mode 0600) and later starts reuse it: the service never runs open.
   */
  static load(config: AppConfig): ApiKeys {
    const configured = [
      ...(config.API_KEYS ?? []),
      ...(config.API_KEYS_FILE ? readKeyFile(config.API_KEYS_FILE) : []),
    ];
    if (config.ADMIN_API_KEY)
      configured.push({ key: config.ADMIN_API_KEY, role: 'admin', coaches: ['*'], tier: 'premium' });
    if (configured.length > 0) return new ApiKeys(configured.map(toEntry));
    const file = resolve(join(config.DATA_DIR, 'admin-api-key'));
    const generated = !existsSync(file);
    if (generated) {
      mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    }
    const key = readFileSync(file, 'utf8').trim();
    return new ApiKeys([toEntry({ key, role: 'admin', coaches: ['*'], tier: 'premium' }, 0)], {
      path: file,
      generated,
    });
  }

  static of(entries: Array<z.input<typeof apiKeySchema>>): ApiKeys {
    return new ApiKeys(entries.map((e, i) => toEntry(apiKeySchema.parse(e), i)));
  }

  /** Compares against every key so that the time taken says nothing about which key came close. */
  authenticate(presented: string): Principal | undefined {
    const d = digest(presented);
    let found: Principal | undefined;
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, d)) found = entry.principal;
    return found;
  }
}

function readKeyFile(path: string): Array<z.infer<typeof apiKeySchema>> {
  try {
    return z.array(apiKeySchema).parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new ConfigError([
      `API_KEYS_FILE (${path}): ${error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (error as Error).message}`,
    ]);
  }
}
