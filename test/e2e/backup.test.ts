import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runBackup, runRestore } from '../../src/cli/backup-commands.js';
import { describeFailure } from '../../src/cli/cli-errors.js';
import { BackupError } from '../../src/infrastructure/backup/backup-format.js';
import { chains } from '../../src/infrastructure/backup/backup-directory.js';
import { BackupScheduler } from '../../src/infrastructure/backup/backup.scheduler.js';
import { verifyChain } from '../../src/infrastructure/backup/verify-backup.js';
import { settledHead } from '../../src/infrastructure/backup/store-reader.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import type { SqlExecutor } from '../../src/infrastructure/sql/sql-client.js';
import { openTestDatabase, targets, type TargetKind, type TestDatabase } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const CONFIG = loadConfig({ ADMIN_API_KEY: 'cli-test-admin-key-0123456789' });
const dir = mkdtempSync(join(tmpdir(), 'docsvc-backup-'));
const other = (kind: TargetKind): TargetKind =>
  targets().length === 2 && kind === 'pglite' ? 'postgres' : 'pglite';

interface EventRow {
  event_id: string;
  stream_id: string;
  stream_position: number;
  type: string;
  data: unknown;
  metadata: unknown;
  at: string;
}

/** The log as a restore must reproduce it: ids, streams, order, payloads and times (positions are the store's). */
async function eventsOf(db: SqlExecutor): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT event_id::text, stream_id, stream_position::int, type, data, metadata, created_at::text AS at
     FROM events ORDER BY transaction_id, global_position`,
  );
  return rows;
}

async function filesOf(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ sha256: string; n: number }>(
    `SELECT sha256, length(bytes)::int AS n FROM files ORDER BY sha256`,
  );
  return rows.map((r) => `${r.sha256}:${r.n}`);
}

const doc = (title: string, content: string) => ({
  coachId: 'carnivore',
  title,
  content,
  format: 'markdown',
  metadata: { documentType: 'guide', tags: ['backup'], accessTier: 'free' },
});

async function uploadFile(svc: TestService, name: string, text: string): Promise<string> {
  const form = new FormData();
  form.set('coachId', 'carnivore');
  form.set('metadata', JSON.stringify({ documentType: 'protocol', tags: ['file'], accessTier: 'premium' }));
  form.set('file', new Blob([text]), name);
  const res = await svc.request('POST', '/documents', { form });
  expect(res.status).toBe(201);
  return res.body.documentId as string;
}

async function searchOn(svc: TestService, query: string) {
  const minPosition = await settledHead(svc.db.client);
  const res = await svc.request('POST', '/search', {
    json: { coachId: 'carnivore', query, k: 5, minPosition },
  });
  expect(res.status).toBe(200);
  return res.body.results.map(
    (r: { documentId: string; chunkIndex: number; content: string; score: number }) => ({
      documentId: r.documentId,
      chunkIndex: r.chunkIndex,
      content: r.content,
      score: Number(r.score.toFixed(6)),
    }),
  );
}

describe.each(targets())('backups taken on %s', (kind) => {
  let svc: TestService;
  const restored: TestDatabase[] = [];
  const fresh = async (k: TargetKind) => {
    const db = await openTestDatabase(k);
    restored.push(db);
    return db;
  };
  beforeAll(async () => {
    svc = await startService(kind);
    for (let i = 0; i < 4; i++)
      expect(
        (
          await svc.request('POST', '/documents', {
            json: doc(`Liver ${i}`, `# Liver ${i}\n\nRetinol and copper, part ${i}.`),
          })
        ).status,
      ).toBe(201);
    await uploadFile(
      svc,
      'protocol.md',
      '# Fasting protocol\n\nSixteen hours, electrolytes, then a meal of eggs.',
    );
  });
  afterAll(async () => {
    await svc?.close();
    for (const db of restored) await db.drop();
  });

  it('is a consistent cut while writes go on, restored elsewhere with the same events and files', async () => {
    let writing = true;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        const res = await svc.request('POST', '/documents', {
          json: doc(`Concurrent ${i}`, `Written during the backup, ${i}.`),
        });
        expect(res.status).toBe(201);
        written++;
      }
    })();
    while (written < 3) await new Promise((resolve) => setImmediate(resolve));
    const file = join(dir, `${kind}-during-writes.backup.gz`);
    const { data } = await runBackup(CONFIG, file, undefined, svc.db.client);
    const writtenBefore = written;
    while (written < writtenBefore + 2) await new Promise((resolve) => setImmediate(resolve));
    writing = false;
    await writes;
    // The backup is the log's prefix up to its cut; the writes went on before, during and after it.
    const all = await eventsOf(svc.db.client);
    const cut = all.slice(0, data.manifest.parts.events!.count);
    expect(cut.length).toBeGreaterThanOrEqual(5 + 3);
    expect(all.length).toBeGreaterThan(cut.length);

    const target = await fresh(other(kind));
    const result = await runRestore(CONFIG, [file], {}, target.client);
    expect(result.data.events).toBe(cut.length);
    expect(await eventsOf(target.client)).toEqual(cut);
    // Every file the cut's documents refer to, and no other.
    const { rows } = await target.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM document_versions v LEFT JOIN files f ON f.sha256 = v.file_sha256
       WHERE v.file_sha256 IS NOT NULL AND f.sha256 IS NULL`,
    );
    expect(rows[0]!.n).toBe(0);
    expect((await filesOf(target.client)).length).toBeGreaterThan(0);
  });

  it('restores a full backup and its incremental with the same events, files and search results', async () => {
    const full = join(dir, `${kind}-full.backup.gz`);
    const incremental = join(dir, `${kind}-incremental.backup.gz`);
    await runBackup(CONFIG, full, undefined, svc.db.client);
    const id = (
      await svc.request('POST', '/documents', {
        json: doc('Kidney', '# Kidney\n\nSelenium and B12 in kidney.'),
      })
    ).body.documentId;
    await svc.request('PATCH', `/documents/${id}`, {
      json: { content: '# Kidney\n\nSelenium, B12 and iron in kidney.' },
    });
    await uploadFile(svc, 'heart.md', '# Heart\n\nCoenzyme Q10 in beef heart.');
    const inc = await runBackup(CONFIG, incremental, full, svc.db.client);
    expect(inc.data.manifest.kind).toBe('incremental');
    expect(inc.data.manifest.parts.events!.count).toBe(3); // an upload, its edit, a file

    const target = await fresh(kind);
    await runRestore(CONFIG, [full, incremental], {}, target.client);
    expect(await eventsOf(target.client)).toEqual(await eventsOf(svc.db.client));
    expect(await filesOf(target.client)).toEqual(await filesOf(svc.db.client));
    const copy = await startService(kind, {}, { db: target });
    try {
      for (const query of ['selenium kidney iron', 'retinol copper', 'coenzyme heart'])
        expect(await searchOn(copy, query)).toEqual(await searchOn(svc, query));
    } finally {
      await copy.close();
      restored.splice(restored.indexOf(target), 1);
      if (kind === 'postgres') await target.drop();
    }
  });

  it('moves between the engines: restored on the other engine and back gives the same log', async () => {
    const there = await fresh(other(kind));
    const first = join(dir, `${kind}-there.backup.gz`);
    const back = join(dir, `${kind}-back.backup.gz`);
    await runBackup(CONFIG, first, undefined, svc.db.client);
    await runRestore(CONFIG, [first], {}, there.client);
    await runBackup(CONFIG, back, undefined, there.client);
    const home = await fresh(kind);
    await runRestore(CONFIG, [back], {}, home.client);
    expect(await eventsOf(home.client)).toEqual(await eventsOf(svc.db.client));
    expect(await filesOf(home.client)).toEqual(await filesOf(svc.db.client));
  });

  it('refuses a backup with one flipped byte, and a chain with a missing link, writing nothing', async () => {
    const full = join(dir, `${kind}-good.backup.gz`);
    await runBackup(CONFIG, full, undefined, svc.db.client);
    const bytes = readFileSync(full);
    const flipped = join(dir, `${kind}-flipped.backup.gz`);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(flipped, bytes);
    await expect(verifyChain([flipped], { fromFull: false })).rejects.toMatchObject({
      code: 'BACKUP_CORRUPT',
    });
    const target = await fresh(kind);
    await expect(runRestore(CONFIG, [flipped], {}, target.client)).rejects.toMatchObject({
      code: 'BACKUP_CORRUPT',
    });
    expect(await eventsOf(target.client)).toEqual([]);

    const one = join(dir, `${kind}-link1.backup.gz`);
    const two = join(dir, `${kind}-link2.backup.gz`);
    await svc.request('POST', '/documents', { json: doc('Link one', 'In the first link.') });
    await runBackup(CONFIG, one, full, svc.db.client);
    await svc.request('POST', '/documents', { json: doc('Link two', 'In the second link.') });
    await runBackup(CONFIG, two, one, svc.db.client);
    await expect(verifyChain([full, one, two], { fromFull: true })).resolves.toBeDefined();
    await expect(runRestore(CONFIG, [full, two], {}, target.client)).rejects.toMatchObject({
      code: 'BACKUP_CHAIN_BROKEN',
    });
    await expect(runRestore(CONFIG, [one, two], {}, target.client)).rejects.toMatchObject({
      code: 'BACKUP_CHAIN_BROKEN',
    });
    expect(await eventsOf(target.client)).toEqual([]);
  });

  it('restores only into an empty store, unless forced', async () => {
    const full = join(dir, `${kind}-force.backup.gz`);
    await runBackup(CONFIG, full, undefined, svc.db.client);
    const target = await fresh(kind);
    await runRestore(CONFIG, [full], {}, target.client);
    await expect(runRestore(CONFIG, [full], {}, target.client)).rejects.toMatchObject({
      code: 'RESTORE_TARGET_NOT_EMPTY',
    });
    await runRestore(CONFIG, [full], { force: true }, target.client);
    expect(await eventsOf(target.client)).toEqual(await eventsOf(svc.db.client));
  });

  it('keeps erased content out of later backups and out of restores of earlier ones', async () => {
    const marker = `erasure-marker-${kind}-7c1f`;
    const ledgerDir = join(dir, `${kind}-ledger`);
    const erasing = await startService(kind, { BACKUP_DIR: ledgerDir });
    try {
      const id = (
        await erasing.request('POST', '/documents', {
          json: doc(`Secret ${marker}`, `Patient notes ${marker}.`),
        })
      ).body.documentId;
      const fileId = await uploadFile(erasing, 'secret.md', `# File ${marker}\n\nAlso secret.`);
      const before = join(dir, `${kind}-before-erasure.backup.gz`);
      await runBackup(CONFIG, before, undefined, erasing.db.client);
      for (const target of [id, fileId])
        expect(
          (await erasing.request('POST', `/documents/${target}/erase`, { json: { reason: 'GDPR request' } }))
            .status,
        ).toBe(200);
      const after = join(dir, `${kind}-after-erasure.backup.gz`);
      await runBackup(CONFIG, after, undefined, erasing.db.client);
      expect(gunzipSync(readFileSync(after)).toString('latin1')).not.toContain(marker);

      const ledger = join(ledgerDir, 'erasure-ledger.ndjson');
      const withLedger = await fresh(kind);
      const result = await runRestore(CONFIG, [before], { ledger: [ledger] }, withLedger.client);
      expect(result.data.erasuresReapplied).toBe(2);
      expect(await holds(withLedger.client, marker)).toBe(false);
      const { rows } = await withLedger.client.query<{ status: string }>(
        `SELECT status FROM documents WHERE document_id = ANY ($1::uuid[])`,
        [[id, fileId]],
      );
      expect(rows.map((r) => r.status)).toEqual(['erased', 'erased']);
      // Their keys are not restored: the sealed text in the restored events stays unreadable.
      const keys = await withLedger.client.query(
        `SELECT 1 FROM document_keys WHERE document_id = ANY ($1::uuid[])`,
        [[id, fileId]],
      );
      expect(keys.rows).toEqual([]);

      // What the README says plainly: an older backup restored without the ledger brings the document back.
      const withoutLedger = await fresh(kind);
      await runRestore(CONFIG, [before], {}, withoutLedger.client);
      expect(await holds(withoutLedger.client, marker)).toBe(true);
    } finally {
      await erasing.close();
    }
  });
});

/** Whether the marker is readable anywhere a restore writes it: read models, files, chunks. */
async function holds(db: SqlExecutor, marker: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM documents WHERE content LIKE $1 OR title LIKE $1)
           + (SELECT count(*) FROM document_versions WHERE content LIKE $1 OR title LIKE $1)
           + (SELECT count(*) FROM files WHERE position(convert_to($2, 'UTF8') IN bytes) > 0))::int AS n`,
    [`%${marker}%`, marker],
  );
  return rows[0]!.n > 0;
}

describe('scheduled backups', () => {
  it('chains incrementals on the newest full backup, starts a new chain when full, keeps the newest chains', async () => {
    const backupDir = join(dir, 'scheduled');
    const clock = { now: () => new Date(Date.UTC(2026, 0, 1, 1, 0, ticks)) };
    let ticks = 0;
    const svc = await startService(
      'pglite',
      {
        BACKUP_DIR: backupDir,
        BACKUP_CRON: '0 1 * * *',
        BACKUP_CHAIN_LENGTH: '2',
        BACKUP_RETAIN_CHAINS: '1',
      },
      { clock },
    );
    try {
      const scheduler = svc.app.get(BackupScheduler);
      const kinds: string[] = [];
      for (let i = 0; i < 3; i++) {
        await svc.request('POST', '/documents', { json: doc(`Tick ${i}`, `Written before backup ${i}.`) });
        ticks++;
        const result = await scheduler.tick();
        kinds.push(result!.manifest.kind);
      }
      expect(kinds).toEqual(['full', 'incremental', 'full']);
      // The first chain (full + incremental) was deleted whole; the newest chain verifies and restores.
      const left = (await chains(backupDir)).map((chain) => chain.map((e) => e.manifest.kind));
      expect(left).toEqual([['full']]);
      expect(readdirSync(backupDir).filter((n) => n.endsWith('.backup.gz'))).toHaveLength(1);
      expect(readdirSync(backupDir)).toContain('erasure-ledger.ndjson');
    } finally {
      await svc.close();
    }
  });
});

describe('the backup tools on the command line', () => {
  it('report a refused backup with its code and exit 1', () => {
    const failure = describeFailure(
      new BackupError('BACKUP_CHAIN_BROKEN', 'b.backup.gz does not continue a.backup.gz'),
    );
    expect(failure).toMatchObject({ code: 'BACKUP_CHAIN_BROKEN', exitCode: 1 });
    expect(failure.message).toBe('b.backup.gz does not continue a.backup.gz');
  });
});
