import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../infrastructure/migrations/migrator.js';

/** The version in package.json, read where this module runs from (src/ under tsx, dist/src/ when built). */
export function packageVersion(): string {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return version;
}
