import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import { CliFailure } from '../../src/cli/cli-errors.js';
import { runMigrateEvents } from '../../src/cli/migrate-events-command.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { migrateEvents } from '../../src/infrastructure/event-store/esdb/migrate-events.js';
import { Child } from '../support/child.js';
import { openTestDatabase, reopen, targets, type TestDatabase } from '../support/databases.js';
import { startStandIn, type StandIn, type StoredEvent } from '../support/esdb-stand-in/index.js';
import { startService } from '../support/service.js';

const CHILD_MS = 120_000;
const CONFIG_ENV = { ADMIN_API_KEY: 'cli-test-admin-key-0123456789' };
const CONFIG = loadConfig(CONFIG_ENV);
const SECRET = 'Beef liver is rich in retinol';
const decoder = new TextDecoder();

/** The log as the migration must reproduce it: ids, streams, order, types, payloads and metadata. */
async function postgresLog(db: TestDatabase) {
  const { rows } = await db.client.query<{
    id: string;
    stream: string;
    version: number;
    type: string;
    data: unknown;
    metadata: object;
  }>(
    `SELECT event_id::text AS id, stream_id AS stream, stream_position::int AS version, type, data, metadata
     FROM events ORDER BY transaction_id, global_position`,
  );
  return rows;
}

/** What the stand-in stores behind the client, without the system events every `$all` has. */
function eventstoredbLog(standIn: StandIn) {
  return standIn.store.log
    .filter((e) => !e.type.startsWith('$'))
    .map((e) => ({
      id: e.id,
      stream: e.streamName,
      version: Number(e.revision) + 1,
      type: e.type,
      data: JSON.parse(decoder.decode(e.data)) as unknown,
      metadata: JSON.parse(decoder.decode(e.customMetadata)) as { recordedAt: string },
    }));
}

async function refusal(promise: Promise<unknown>): Promise<CliFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliFailure);
  return error as CliFailure;
}

describe.each(targets())('docsvc migrate-events on %s', (kind) => {
  let db: TestDatabase;
  let standIn: StandIn;
  const others: StandIn[] = [];

  /** A stand-in of its own, for a test that needs a target in another state. */
  const anotherStandIn = async () => {
    const server = await startStandIn();
    others.push(server);
    return server;
  };

  /** PGlite on disk is one process at a time: the child gets the files and the test takes them back after. */
  const docsvc = async (args: string[], env: Record<string, string>) => {
    if (kind === 'pglite') await db.close();
    try {
      return await Child.runCli(['migrate-events', ...args], { ...db.env, LOG_LEVEL: 'error', ...env });
    } finally {
      await reopen(db);
    }
  };

  beforeAll(async () => {
    db = await openTestDatabase(kind, { onDisk: true, migrate: false });
    const svc = await startService(kind, {}, { db });
    const upload = (title: string, content: string) =>
      svc.request('POST', '/documents', {
        json: {
          coachId: 'carnivore',
          title,
          content,
          format: 'markdown',
          metadata: { documentType: 'guide', tags: ['organ'], accessTier: 'free' },
        },
      });
    const first = await upload('Organ meats', `# Liver\n\n${SECRET}.`);
    await upload('Bone broth', '# Broth\n\nSimmer the bones for a day.');
    const edit = await svc.request('PATCH', `/documents/${first.body.documentId}`, {
      json: { content: `# Liver\n\n${SECRET} and copper.` },
    });
    expect([first.status, edit.status]).toEqual([201, 200]);
    await svc.close();
    await reopen(db);
    standIn = await startStandIn();
  }, CHILD_MS);
  afterAll(async () => {
    standIn?.stop();
    others.forEach((s) => s.stop());
    await db?.drop();
  });

  it(
    'moves the log in order with ids, types, sealed payloads and metadata; prints the result as JSON, exit 0',
    async () => {
      // --connection-string wins over the environment's.
      const run = await docsvc(
        ['--to', 'eventstoredb', '--connection-string', standIn.connectionString, '--json'],
        {
          EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
        },
      );
      expect(run.code).toBe(0);
      const log = await postgresLog(db);
      const result = JSON.parse(run.stdout);
      expect(result).toEqual({
        migrated: log.length,
        resumedAfter: null,
        verification: {
          ok: true,
          postgres: { events: log.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
          eventstoredb: { events: log.length, sha256: result.verification.postgres.sha256 },
        },
      });
      expect(run.stderr).toMatch(/^migrate-events: \d+ events moved, logs compared$/m);

      const moved = eventstoredbLog(standIn);
      expect(moved).toEqual(
        log.map((e) => ({ ...e, metadata: { ...e.metadata, recordedAt: expect.any(String) } })),
      );
      expect(log.map((e) => e.type)).toEqual(expect.arrayContaining(['DocumentUploaded', 'DocumentEdited']));
      // Sealed parts stay sealed: the document's text is nowhere in what EventStoreDB received.
      for (const e of standIn.store.log) expect(decoder.decode(e.data)).not.toContain(SECRET);
    },
    CHILD_MS,
  );

  it('run again, it resumes past everything: moves nothing and verifies (the server from the environment)', async () => {
    const before = standIn.store.log.length;
    const config = loadConfig({ ...CONFIG_ENV, EVENTSTORE_CONNECTION_STRING: standIn.connectionString });
    const { human, data } = await runMigrateEvents(config, { to: 'eventstoredb' }, db.client);
    expect(data).toMatchObject({ migrated: 0, verification: { ok: true } });
    const lines = human.split('\n');
    expect(lines[0]).toMatch(/^moved 0 event\(s\) into EventStoreDB \(resumed after position \d+\.\d+\)$/);
    expect(lines[1]).toMatch(/^ {2}postgres +\d+ events +sha256 [0-9a-f]{64}$/);
    expect(lines[2]).toBe(lines[1]!.replace('postgres    ', 'eventstoredb'));
    expect(lines[3]).toBe('verified: both logs hold the same events');
    expect(standIn.store.log).toHaveLength(before);
  });

  it('resumes after an interruption: only what was not moved yet', async () => {
    const target = await anotherStandIn();
    const client = EventStoreDBClient.connectionString(target.connectionString);
    try {
      expect((await migrateEvents(db.client, client, { stopAfter: 2 })).migrated).toBe(2);
    } finally {
      await client.dispose();
    }
    const total = (await postgresLog(db)).length;
    const { data } = await runMigrateEvents(
      CONFIG,
      { to: 'eventstoredb', connectionString: target.connectionString },
      db.client,
    );
    expect(data).toMatchObject({ migrated: total - 2, verification: { ok: true } });
    expect(data.resumedAfter).toMatch(/^\d+\.\d+$/);
    expect(eventstoredbLog(target).map((e) => e.id)).toEqual((await postgresLog(db)).map((e) => e.id));
  });

  it('fails with MIGRATION_VERIFY_FAILED (exit 1) when the logs differ', async () => {
    const target = await anotherStandIn();
    const options = { to: 'eventstoredb', connectionString: target.connectionString };
    await runMigrateEvents(CONFIG, options, db.client);
    // Behind the client's back: one payload altered in EventStoreDB.
    const altered = target.store.log.find((e) => e.type === 'DocumentEdited') as StoredEvent;
    altered.data = new TextEncoder().encode(JSON.stringify({ altered: true }));
    const failure = await refusal(runMigrateEvents(CONFIG, options, db.client));
    expect(failure).toMatchObject({ code: 'MIGRATION_VERIFY_FAILED', exitCode: 1 });
    expect(failure.message).toMatch(/PostgreSQL has \d+ events \(sha256 [0-9a-f]{64}\), EventStoreDB/);
  });

  it('refuses a server that holds other events (EVENTSTORE_NOT_EMPTY) and one it cannot reach', async () => {
    const target = await anotherStandIn();
    target.store.append(`other-${randomUUID()}`, { kind: 'no_stream' }, [
      {
        id: randomUUID(),
        type: 'SomethingElse',
        contentType: 'application/json',
        data: new TextEncoder().encode('{}'),
        customMetadata: new TextEncoder().encode('{}'),
      },
    ]);
    const foreign = { to: 'eventstoredb', connectionString: target.connectionString };
    expect(await refusal(runMigrateEvents(CONFIG, foreign, db.client))).toMatchObject({
      code: 'EVENTSTORE_NOT_EMPTY',
      exitCode: 1,
    });
    expect(target.store.log.filter((e) => !e.type.startsWith('$'))).toHaveLength(1);

    const nowhere = { to: 'eventstoredb', connectionString: 'esdb://127.0.0.1:1?tls=false' };
    expect(await refusal(runMigrateEvents(CONFIG, nowhere, db.client))).toMatchObject({
      code: 'EVENTSTORE_UNAVAILABLE',
      exitCode: 1,
    });
  });
});

/** Refused before any database or server is opened, so one engine is enough. */
describe('docsvc migrate-events refusals', () => {
  it(
    'refuses any target but eventstoredb: UNSUPPORTED_TARGET, exit 2',
    async () => {
      const run = await Child.runCli(['migrate-events', '--to', 'other', '--json'], {
        EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
      });
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stdout)).toEqual({
        error: { code: 'UNSUPPORTED_TARGET', exitCode: 2, message: expect.stringMatching(/"other"/) },
      });
      expect(run.stderr).toMatch(/^docsvc: --to must be "eventstoredb"/);
    },
    CHILD_MS,
  );

  it(
    'refuses to run without a connection string: CONNECTION_STRING_REQUIRED, exit 2',
    async () => {
      // Empty is unset: a live server named in the test run's environment (docs/eventstoredb.md) stays out.
      const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-migrate-events-'));
      const run = await Child.runCli(['migrate-events', '--to', 'eventstoredb'], {
        EVENTSTORE_CONNECTION_STRING: '',
        DATA_DIR: dataDir,
      }).finally(() => rmSync(dataDir, { recursive: true, force: true }));
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^docsvc: no EventStoreDB server .* EVENTSTORE_CONNECTION_STRING/);
    },
    CHILD_MS,
  );

  it('refuses a connection string that is not an esdb:// URL, without echoing it', async () => {
    const failure = await refusal(
      runMigrateEvents(CONFIG, { to: 'eventstoredb', connectionString: 'http://admin:hunter2@x' }),
    );
    expect(failure).toMatchObject({ code: 'INVALID_CONNECTION_STRING', exitCode: 2 });
    expect(failure.message).not.toContain('hunter2');
  });
});
