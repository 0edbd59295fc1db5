import type { UploadResult } from '../../commands/upload-document/upload-document.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { loadConfig, type AppConfig } from '../../infrastructure/config/config.js';
import type { SqlClient } from '../../infrastructure/sql/sql-client.js';
import { FileFailure } from './folder-files.js';
import { HttpTarget } from './http-target.js';

export interface UrlImport {
  coachId: string;
  url: string;
  metadata: DocumentMetadata;
  refreshIntervalDays?: number;
}

/**
 * `docsvc import-url <url>`: POST /documents/from-url on a running service (a URL), or the same command on the
 * configured database. The source is refreshed by the service's schedule, wherever it was imported.
 */
export async function runUrlImport(
  request: UrlImport,
  serviceUrl: string | undefined,
  context: { db?: SqlClient; config?: AppConfig } = {},
): Promise<UploadResult & { url: string }> {
  const { db, config = loadConfig() } = context;
  try {
    if (serviceUrl) {
      const target = new HttpTarget({ url: serviceUrl, apiKey: process.env.DOCSVC_API_KEY });
      return { url: request.url, ...(await target.importUrl(request)) };
    }
    // One after the other: jest's ESM loader can fail on concurrent imports that share modules.
    const { CommandBus } = await import('@nestjs/cqrs');
    const { cliPrincipal, withContext } = await import('../app-context.js');
    const { ImportUrlCommand } = await import('../../commands/import-url/import-url.js');
    const result: UploadResult = await withContext(config, { projectors: false, db }, (get) =>
      get(CommandBus).execute(new ImportUrlCommand({ principal: cliPrincipal(), ...request })),
    );
    return { url: request.url, ...result };
  } catch (error) {
    throw error instanceof FileFailure ? error.forCommand() : error;
  }
}

export function describeUrlImport(r: UploadResult & { url: string }): string {
  return r.duplicate
    ? `${r.url} is already document ${r.documentId} (v${r.version}); nothing written`
    : `${r.url} imported as document ${r.documentId} (v${r.version}, position ${r.position}); refreshed on the service's schedule`;
}
