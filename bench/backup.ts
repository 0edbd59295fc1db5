/**
 * Backup and restore at scale (issue 15): builds a corpus of `--chunks` chunks (synthetic Markdown documents of
 * bench/corpus.ts, loaded through POST /imports/csv), then times
 * - a full backup (events/s, MB/s of the file, the file's size next to the database's),
 * - a restore of it into an empty database (events/s, MB/s),
 * - the rebuild of every projection after it (re-embedding every chunk: the embedding cache is not in a backup).
 * Run: npx tsx bench/backup.ts [--database-url postgres://… | --pglite] [--chunks 100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownSections } from '../src/commands/documents/snapshot.js';
import { createApp } from '../src/app/bootstrap.js';
import { runRebuild } from '../src/cli/history-commands.js';
import { restoreBackups } from '../src/infrastructure/backup/restore-backup.js';
import { settledHead } from '../src/infrastructure/backup/store-reader.js';
import { takeBackup } from '../src/infrastructure/backup/take-backup.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import type { SqlClient } from '../src/infrastructure/sql/sql-client.js';
import { chunkText } from '../src/projections/chunks/chunker.js';
import { makeDoc, type Doc } from './corpus.js';
import { corpusCsvParts, importCorpusCsv } from './corpus-csv.js';
import { arg, benchDatabase, fmt } from './support.js';

const kind = process.argv.includes('--pglite') ? 'pglite' : 'postgres';
const serverUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/test');
const target = Number(arg('chunks', '105000'));
const KEY = 'bench-admin-key-0123456789abcdef';
const note = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const mb = (bytes: number) => bytes / 1024 / 1024;

const corpus: Doc[] = [];
for (let n = 0; n < target;) {
  const d = makeDoc('main');
  n += chunkText({ content: d.content, sections: markdownSections(d.content) }).length;
  corpus.push(d);
}

async function load(base: string): Promise<void> {
  await importCorpusCsv(base, KEY, corpusCsvParts(corpus, 'bench'), note);
}

async function caughtUp(base: string, sql: SqlClient): Promise<void> {
  const minPosition = await settledHead(sql);
  for (;;) {
    const res = await fetch(`${base}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ coachId: 'main', query: 'x', minPosition }),
    });
    if (res.status === 200) return;
    if (res.status !== 503) throw new Error(`search: ${res.status} ${await res.text()}`);
  }
}

const size = async (sql: SqlClient) =>
  Number(
    (await sql.query<{ n: string }>('SELECT pg_database_size(current_database())::text AS n')).rows[0]!.n,
  );
const count = async (sql: SqlClient, table: string) =>
  (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

const source = await benchDatabase(kind, serverUrl);
const restored = await benchDatabase(kind, serverUrl);
const dir = mkdtempSync(join(tmpdir(), 'docsvc-bench-backup-'));
const config = loadConfig({
  ...(source.url ? { DATABASE_URL: source.url } : {}),
  ADMIN_API_KEY: KEY,
  LOG_LEVEL: 'error',
  RATE_LIMIT_PER_MINUTE: '1000000',
  MAX_UPLOAD_BYTES: String(60 * 1024 * 1024),
});
const app = await createApp(config, source.url ? undefined : source.client);
try {
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  note(`loading ${fmt(corpus.length)} documents (~${fmt(target)} chunks)`);
  await load(base);
  await caughtUp(base, source.client);
  await source.client.exec('VACUUM ANALYZE');
  const [events, chunks, dbBytes] = [
    await count(source.client, 'events'),
    await count(source.client, 'chunks'),
    await size(source.client),
  ];
  const file = join(dir, 'full.backup.gz');
  note('backup');
  const backup = await takeBackup(source.client, { file });
  await app.close();
  note('restore');
  let started = performance.now();
  await restoreBackups(restored.client, [file], { onProgress: note });
  const load_ = (performance.now() - started) / 1000;
  note('rebuild');
  started = performance.now();
  const rebuildConfig = { ...config, DATABASE_URL: restored.url };
  for (const name of ['documents', 'document_versions', undefined])
    await runRebuild(rebuildConfig, name, () => undefined, { db: restored.client });
  // Wall time: the chunks rebuild ends when its projector has stopped, after building the vector index.
  const rebuild = (performance.now() - started) / 1000;
  const total = load_ + rebuild;
  const restoredChunks = await count(restored.client, 'chunks');

  console.log(`# backup and restore — ${new Date().toISOString()}, ${source.label}\n`);
  console.log(`Command: \`npx tsx bench/backup.ts ${process.argv.slice(2).join(' ')}\`\n`);
  console.log(
    `${fmt(corpus.length)} documents, ${fmt(events)} events, ${fmt(chunks)} chunks (restored: ${fmt(restoredChunks)})\n`,
  );
  console.log('| figure | value |\n|---|---|');
  console.log(`| database size | ${mb(dbBytes).toFixed(0)} MB |`);
  console.log(
    `| backup file size | ${mb(backup.bytes).toFixed(1)} MB (${((100 * backup.bytes) / dbBytes).toFixed(1)} % of the database) |`,
  );
  console.log(
    `| backup | ${backup.seconds.toFixed(1)} s: ${fmt(Math.round(events / backup.seconds))} events/s, ${(mb(backup.bytes) / backup.seconds).toFixed(1)} MB/s of file |`,
  );
  console.log(
    `| restore (load, before rebuild) | ${load_.toFixed(1)} s: ${fmt(Math.round(events / load_))} events/s, ${(mb(backup.bytes) / load_).toFixed(1)} MB/s of file |`,
  );
  console.log(`| rebuild of every projection | ${rebuild.toFixed(1)} s |`);
  console.log(`| full restore + rebuild | ${total.toFixed(1)} s |`);
} finally {
  await source.dispose();
  await restored.dispose();
  rmSync(dir, { recursive: true, force: true });
}
