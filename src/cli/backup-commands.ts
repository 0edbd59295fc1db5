import type { Command } from 'commander';
import { loadConfig, type AppConfig } from '../infrastructure/config/config.js';
import { CliFailure, EXIT } from './cli-errors.js';
import { progressOnStderr } from './progress-line.js';
import type { CliOutput } from './output.js';
import type { SqlClient } from '../infrastructure/sql/sql-client.js';

/** `backup`, `verify-backup` and `restore` (docs/backups.md). */
export function addBackupCommands(program: Command, out: CliOutput): void {
  program
    .command('backup')
    .description('write a consistent backup of the event log, keys and files (writes may go on meanwhile)')
    .argument('<file>', 'the backup file to write (it must not exist)')
    .option(
      '--since <backup-file|position>',
      'an incremental backup: only what came after that backup or position',
    )
    .option('--json', 'print the manifest as JSON')
    .action(async (file: string, o: { since?: string }) => {
      const result = await runBackup(loadConfig(), file, o.since);
      out.result(result.human, result.data);
    });

  program
    .command('verify-backup')
    .description('check backups whole (checksums, order) and, given several, that they form one chain')
    .argument('<file...>', 'a backup, or a full backup and its incrementals in order')
    .option('--json', 'print the manifests as JSON')
    .action(async (files: string[]) => {
      const { verifyChain } = await import('../infrastructure/backup/verify-backup.js');
      const { links } = await verifyChain(files, { fromFull: false });
      const human = links
        .map(
          ({ file, manifest: m }) =>
            `ok ${file}: ${m.kind}, ${m.parts.events?.count ?? 0} events, ${m.parts.files?.count ?? 0} files, up to ${m.lastPosition ?? m.since ?? 'nothing'}`,
        )
        .join('\n');
      out.result(`${human}${links.length > 1 ? '\nthe files form one chain' : ''}`, {
        ok: true,
        backups: links,
      });
    });

  program
    .command('restore')
    .description(
      'restore a full backup and its incrementals into an empty store, then rebuild every projection',
    )
    .argument('<file...>', 'a full backup, then its incrementals in order')
    .option('--force', 'replace a store that holds data (its own erasures are kept)')
    .option(
      '--ledger <file...>',
      'erasure ledgers to apply: BACKUP_DIR/erasure-ledger.ndjson or a later backup',
    )
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], o: { force?: boolean; ledger?: string[] }) => {
      const result = await runRestore(loadConfig(), files, o);
      out.result(result.human, result.data);
    });
}

/** A backup file's manifest names where the next link starts; a position is taken as it is. */
async function sinceOf(since: string | undefined): Promise<{ since: string | null; parent: string | null }> {
  if (!since) return { since: null, parent: null };
  if (/^\d{1,20}\.\d{1,20}$/.test(since)) return { since, parent: null };
  const { verifyFile } = await import('../infrastructure/backup/verify-backup.js');
  const { chainEnd } = await import('../infrastructure/backup/backup-format.js');
  const manifest = await verifyFile(since);
  return { since: chainEnd(manifest), parent: manifest.backupId };
}

export async function runBackup(config: AppConfig, file: string, since?: string, db?: SqlClient) {
  const { takeBackup } = await import('../infrastructure/backup/take-backup.js');
  const from = await sinceOf(since);
  return withDatabase(config, db, async (sql) => {
    const progress = progressOnStderr();
    const result = await takeBackup(sql, {
      file,
      ...from,
      onProgress: (p) =>
        progress(`backup: ${p.events.toLocaleString('en-US')} events, ${p.files} files`, false),
    });
    const m = result.manifest;
    progress(`backup: ${m.parts.events?.count ?? 0} events, ${m.parts.files?.count ?? 0} files`, true);
    const human =
      `wrote ${file}: ${m.kind} backup ${m.backupId}, ${m.parts.events?.count ?? 0} events, ` +
      `${m.parts.keys?.count ?? 0} keys, ${m.parts.files?.count ?? 0} files, ${m.parts.erasures?.count ?? 0} erasures; ` +
      `up to position ${m.lastPosition ?? m.since ?? '(empty)'}; ${result.bytes} bytes in ${result.seconds.toFixed(1)} s`;
    return { human, data: result };
  });
}

export async function runRestore(
  config: AppConfig,
  files: string[],
  options: { force?: boolean; ledger?: string[] },
  db?: SqlClient,
) {
  const { restoreBackups } = await import('../infrastructure/backup/restore-backup.js');
  const { runRebuild } = await import('./history-commands.js');
  const progress = progressOnStderr();
  return withDatabase(config, db, async (sql) => {
    const restored = await restoreBackups(sql, files, {
      force: options.force,
      ledgers: options.ledger,
      onProgress: (line) => progress(line, true),
    });
    const rebuilt = [];
    for (const name of ['documents', 'document_versions', undefined])
      rebuilt.push((await runRebuild(config, name, progress, { db: sql })).data);
    const human =
      `restored ${restored.events} events and ${restored.files} files from ${restored.links} backup(s); ` +
      `${restored.erasedDocuments} erased document(s) kept erased (${restored.erasuresReapplied} erasure(s) re-applied); projections rebuilt`;
    return { human, data: { ...restored, rebuilt } };
  });
}

/** Backups and restores cover the event log in PostgreSQL; an EventStoreDB log is backed up by its server. */
async function withDatabase<T>(
  config: AppConfig,
  db: SqlClient | undefined,
  run: (sql: SqlClient) => Promise<T>,
): Promise<T> {
  if (config.EVENT_STORE !== 'postgres')
    throw new CliFailure(
      'backup and restore cover an event log kept in PostgreSQL; with EVENT_STORE=eventstoredb, back the log up ' +
        "with the server's own backups and the read side with pg_dump (docs/eventstoredb.md)",
      EXIT.failed,
      'EVENT_STORE_UNSUPPORTED',
    );
  const { openDatabase } = await import('../infrastructure/database.module.js');
  const sql = db ?? (await openDatabase(config));
  try {
    return await run(sql);
  } finally {
    if (!db) await sql.close();
  }
}
