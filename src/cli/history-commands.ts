import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { cliPrincipal, withContext } from './app-context.js';
import { RollBackDocumentCommand } from '../commands/rollback-document/rollback-document.js';
import { rollbackSchema } from '../commands/documents/schemas.js';
import { parseWith } from '../infrastructure/http/validation.js';
import type { AppConfig } from '../infrastructure/config/config.js';
import { ProjectionEngine, type ProjectionStatus } from '../infrastructure/projections/projection-engine.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';
import { ListVersionsQuery, type VersionEntry } from '../projections/document-versions/history-queries.js';

export async function runHistory(config: AppConfig, documentId: string, db?: SqlClient) {
  return withContext(config, { projectors: false, db }, async (get) => {
    const { versions } = (await get(QueryBus).execute(new ListVersionsQuery(cliPrincipal(), documentId))) as {
      versions: VersionEntry[];
    };
    const human = versions
      .map((v) => {
        const what = v.rolledBackTo ? `${v.change} to v${v.rolledBackTo}` : v.change;
        const why = v.changeSummary ? `  "${v.changeSummary}"` : '';
        return `v${v.version}  ${v.at}  ${what.padEnd(16)} ${v.actor}  @${v.position}${why}`;
      })
      .join('\n');
    return { data: { documentId, versions }, human };
  });
}

export async function runRollback(
  config: AppConfig,
  documentId: string,
  toVersion: number,
  reason: string | undefined,
  db?: SqlClient,
) {
  return withContext(config, { projectors: false, db }, async (get) => {
    const result = (await get(CommandBus).execute(
      new RollBackDocumentCommand({
        principal: cliPrincipal(),
        documentId,
        ...parseWith(rollbackSchema, { toVersion, ...(reason ? { reason } : {}) }, 'body'),
      }),
    )) as { version: number; position: string; changed?: boolean };
    const human =
      result.changed === false
        ? `document ${documentId} already equals version ${toVersion}; nothing written (still v${result.version})`
        : `document ${documentId} rolled back to version ${toVersion}: now v${result.version} at ${result.position}`;
    return { data: { documentId, ...result }, human };
  });
}

/**
 * `docsvc rebuild [name]`: asks for a rebuild and follows it until the projection is live again. An async
 * projection is rebuilt by whichever process holds it (this one if no service is running); an inline one
 * (documents, document_versions) by this process, blocking appends while it replays. Either can be run beside a
 * running service on PostgreSQL. Progress goes to stderr.
 */
export async function runRebuild(
  config: AppConfig,
  name: string | undefined,
  progress: (line: string, final: boolean) => void,
  options: { db?: SqlClient; timeoutMs?: number } = {},
) {
  return withContext(config, { projectors: true, db: options.db }, async (get) => {
    const engine = get(ProjectionEngine);
    const all = await engine.status();
    // By name any projection, inline ones included; without a name every async one.
    const chosen = name ? all.filter((s) => s.name === name) : all.filter((s) => s.kind === 'async');
    if (name && chosen.length === 0) await engine.requestRebuild(name); // throws NOT_FOUND with the names known
    const started = performance.now();
    const done: ProjectionStatus[] = [];
    for (const p of chosen) {
      if ((await engine.requestRebuild(p.name)) === 'rebuilt') {
        // Inline: rebuilt in this process, in one transaction, before requestRebuild returned.
        progress(`${p.name}: rebuilt`, true);
        done.push((await engine.status()).find((s) => s.name === p.name)!);
        continue;
      }
      // Never run before: there was no checkpoint to reset, and its first build is the rebuild.
      const after = p.status === 'not_started' ? -1 : (p.rebuilds ?? 0);
      done.push(await follow(engine, p.name, after, progress, options.timeoutMs ?? 24 * 3600_000));
    }
    const seconds = (performance.now() - started) / 1000;
    const human = done
      .map((s) => `rebuilt ${s.name} v${s.version}: at ${s.position ?? 'start'}, ${s.status}`)
      .join('\n');
    return { data: { rebuilt: done, seconds }, human: `${human}\n(${seconds.toFixed(1)} s)` };
  });
}

async function follow(
  engine: ProjectionEngine,
  name: string,
  rebuildsBefore: number,
  progress: (line: string, final: boolean) => void,
  timeoutMs: number,
): Promise<ProjectionStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await engine.status()).find((x) => x.name === name)!;
    // Done: this rebuild has started (the checkpoint was reset), the projection caught up and went live again.
    if ((s.rebuilds ?? 0) > rebuildsBefore && !s.rebuildRequested && s.status === 'live' && s.lag === 0) {
      progress(`${name}: rebuilt`, true);
      return s;
    }
    if (s.lastError) progress(`${name}: retrying after an error: ${s.lastError}`, false);
    else progress(`${name}: ${s.status}, ${s.lag.toLocaleString('en-US')} events to go`, false);
    if (Date.now() > deadline) throw new Error(`the rebuild of ${name} did not finish in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
