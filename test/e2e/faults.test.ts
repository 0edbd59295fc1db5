import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { importFixture, importKillOnce } from '../../reliability/faults/a-import-kill.js';
import { rebuildFixture, rebuildKillOnce } from '../../reliability/faults/b-rebuild-kill.js';
import type { Steps } from '../../reliability/faults/steps.js';
import { runRebuild } from '../../src/cli/history-commands.js';
import { silentProgress } from '../../src/cli/import/progress.js';
import { runFolderImport } from '../../src/cli/import/run-import.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { chunkAnomalies, chunksCaughtUp, type ChunkAnomalies } from '../../reliability/faults/checks.js';
import { privateClusterPossible, type Database } from '../../reliability/faults/databases.js';
import { restartFixture, restartOnce } from '../../reliability/faults/c-postgres-restart.js';
import { EMBEDDINGS_ENV, FakeEmbeddings } from '../support/fake-embeddings.js';
import { uploadBody } from '../../reliability/faults/library.js';
import { sourceCli, until } from '../../reliability/faults/processes.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

/**
 * One short repetition of the fault checks of reliability/faults.ts (RELIABILITY.md): `docsvc` run from the
 * sources as child processes and SIGKILLed at a point read from the database (a PostgreSQL server is needed for a
 * second process to watch it: these run with TEST_DATABASE_URL); the embedding provider failing, on every target.
 */
const TIMEOUT = 180_000;
const server = process.env.TEST_DATABASE_URL;
// Loops over these rather than describe.each, which refuses an empty table (no TEST_DATABASE_URL).
const onServer = targets().filter((k) => k === 'postgres');
const NO_ANOMALIES: ChunkAnomalies = {
  sameKey: 0,
  sameRange: 0,
  gappedVersions: 0,
  mixedCurrent: 0,
  activeWithoutChunks: 0,
  staleCurrent: 0,
  deadLetters: 0,
};

/**
 * Every step but the process that is killed, in this process: a child started through tsx costs seconds, and
 * only the killed one must be a child.
 */
function inProcessSteps(): Steps {
  const opened = new Map<string, TestDatabase>();
  const testDb = (env: Record<string, string>) => opened.get(env.DATABASE_URL!)!;
  const config = (env: Record<string, string>) => loadConfig({ ...env, LOG_LEVEL: 'fatal' });
  return {
    async createDatabase() {
      const db = await openTestDatabase('postgres');
      const url = db.env.DATABASE_URL!;
      opened.set(url, db);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      return {
        url,
        name: new URL(url).pathname.slice(1),
        pool,
        query: async (text, params) => (await pool.query(text, params)).rows,
        async drop() {
          await pool.end();
          await db.drop();
        },
      };
    },
    async run(args, env) {
      const db = testDb(env);
      if (args[0] === 'rebuild') {
        await runRebuild(config(env), args[1], () => undefined, { db: db.client });
        return { code: 0, stdout: '', stderr: '' };
      }
      // import <dir> --coach C --type T --tier R --json [--retire-missing]
      const flag = (name: string) => args[args.indexOf(name) + 1]!;
      const report = await runFolderImport(
        {
          root: args[1]!,
          coachId: flag('--coach'),
          flags: { documentType: flag('--type'), accessTier: flag('--tier') },
          concurrency: 2,
          dryRun: false,
          retireMissing: args.includes('--retire-missing'),
        },
        undefined,
        silentProgress,
        { db: db.client, config: config(env) },
      );
      return { code: report.failed.length > 0 ? 1 : 0, stdout: JSON.stringify(report), stderr: '' };
    },
    async project(db, env) {
      const started = Date.now();
      const svc = await startService('postgres', {}, { db: testDb(env) });
      try {
        await until(() => chunksCaughtUp(db), 600_000, 'the projection to catch up', 50);
        return (Date.now() - started) / 1000;
      } finally {
        await svc.close();
      }
    },
  };
}

/** A fixture made once for a describe block, in a data directory of its own that goes with it. */
function fixtureInTempDir<F extends { dispose(): Promise<void> }>(
  make: (dataDir: string) => Promise<F>,
): () => F {
  let fx: F | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'docsvc-faults-test-'));
    fx = await make(dataDir);
  }, TIMEOUT);
  afterAll(async () => {
    await fx?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return () => fx!;
}

for (const kind of onServer)
  describe(`SIGKILL during a folder import and during its projection (${kind})`, () => {
    const fixture = fixtureInTempDir((dataDir) =>
      importFixture({ cli: sourceCli, serverUrl: server!, files: 120, dataDir, steps: inProcessSteps() }),
    );

    it(
      'loses no committed event, imports each file once on the second run, and projects no chunk twice',
      async () => {
        const { figures, violations } = await importKillOnce(fixture(), 0);
        // Each figure is a property of its own: the first to fail names it.
        expect(figures.killedMidImport).toBe(true);
        expect(figures.lostEvents).toBe(0);
        expect(figures.secondRun).toMatchObject({ code: 0, duplicates: 0, failed: 0 });
        expect(figures.secondRun.created + figures.secondRun.unchanged).toBe(figures.files);
        expect(figures.secondRun.created).toBeLessThan(figures.files);
        expect(figures).toMatchObject({
          documents: figures.files,
          doubledDocuments: 0,
          doubledPaths: 0,
          streamsWithExtraEvents: 0,
          filesMissing: 0,
        });
        expect(figures.killedMidProjection).toBe(true);
        expect(figures.anomalies).toEqual(NO_ANOMALIES);
        expect(figures.chunks).toBe(fixture().reference.length);
        expect(figures.chunksMissingVsReference + figures.chunksExtraVsReference).toBe(0);
        expect(violations).toEqual([]);
      },
      TIMEOUT,
    );
  });

for (const kind of onServer)
  describe(`SIGKILL during a rebuild of chunks, resumed by the restarted service (${kind})`, () => {
    const fixture = fixtureInTempDir((dataDir) =>
      rebuildFixture({
        cli: sourceCli,
        serverUrl: server!,
        files: 120,
        dataDir,
        steps: inProcessSteps(),
        inline: false,
      }),
    );

    it(
      'goes on from its checkpoint and ends equal to an uninterrupted rebuild',
      async () => {
        const { figures, violations } = await rebuildKillOnce(fixture(), 'chunks-resume');
        expect(figures.killedMidRebuild).toBe(true);
        expect(figures.appliedAtKill).toBeLessThan(fixture().events);
        expect(figures.resumed).toBe(true);
        expect(figures.differing).toEqual([]);
        expect(violations).toEqual([]);
      },
      TIMEOUT,
    );
  });

/**
 * Scenario c once: a private PostgreSQL cluster (its own directory and port; the shared server is never touched)
 * stopped for 2 s under uploads and searches. Needs PostgreSQL's server programs (PG_BIN) beside TEST_DATABASE_URL.
 */
for (const kind of onServer.filter(privateClusterPossible))
  describe(`PostgreSQL stopped under load, then started (${kind})`, () => {
    const fixture = fixtureInTempDir((dataDir) => restartFixture({ cli: sourceCli, dataDir }));

    it(
      'answers 503 at once while it is down, recovers in the same process, loses no acknowledged write',
      async () => {
        const { figures, violations } = await restartOnce(fixture(), {
          downMs: 2_000,
          concurrency: 2,
          hangMs: 15_000,
        });
        expect(figures.requestsWhileDown).toBeGreaterThan(0);
        expect(Object.keys(figures.statusesWhileDown)).toEqual(['503']);
        expect({ hung: figures.hung, refused: figures.refusedConnections }).toEqual({ hung: 0, refused: 0 });
        expect(figures.sameProcess).toBe(true);
        expect(figures.acknowledgedWrites).toBeGreaterThan(0);
        expect(figures.missingWrites).toBe(0);
        expect(violations).toEqual([]);
      },
      TIMEOUT,
    );
  });

/**
 * The provider answers 500 twice, then 429 twice, then holds the next request until the test has seen it held
 * and uploaded more; then it answers. Phases move on a count of the provider's requests, not on a clock.
 */
describe.each(targets())('the embedding provider failing, then hanging, then back (%s)', (kind) => {
  let faulty: { svc: TestService; fake: FakeEmbeddings };
  let clean: { svc: TestService; fake: FakeEmbeddings };
  const start = async () => {
    const fake = new FakeEmbeddings();
    const svc = await startService(kind, {
      ...EMBEDDINGS_ENV(await fake.start()),
      QUERY_CACHE_TTL_SECONDS: '0',
    });
    return { svc, fake };
  };
  beforeAll(async () => {
    faulty = await start();
    clean = await start();
  }, TIMEOUT);
  afterAll(async () => {
    for (const side of [faulty, clean]) {
      await side?.svc.close();
      await side?.fake.close();
    }
  });

  /** The checks of reliability/faults/checks.ts on the service's own database client. */
  const dbOf = (svc: TestService) =>
    ({
      query: async (text: string, params?: unknown[]) => (await svc.db.client.query(text, params)).rows,
    }) as Database;
  const chunksByTitle = async (svc: TestService) =>
    (
      await svc.db.client.query<{ line: string }>(
        `SELECT d.title || '|' || c.chunk_index || '|' || md5(c.content) || '|' || md5(c.embedding::text) AS line
         FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE c.is_current ORDER BY 1`,
      )
    ).rows.map((r) => r.line);
  const upload = async (marker: string) => {
    const body = uploadBody('carnivore', marker);
    const [a, b] = await Promise.all([
      faulty.svc.request('POST', '/documents', { json: body }),
      clean.svc.request('POST', '/documents', { json: body }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]); // uploads never wait for embeddings
    return a.body.position as string;
  };

  it(
    'keeps accepting uploads, projects nothing past the failure, then embeds every chunk a clean run does',
    async () => {
      await upload('before-1');
      await until(() => chunksCaughtUp(dbOf(faulty.svc)), 60_000, 'the first projection');
      let requests = 0;
      faulty.fake.onRequest = () => {
        requests++;
        faulty.fake.setMode(requests <= 2 ? 'fail500' : requests <= 4 ? 'fail429' : 'hang');
      };
      const firstDuringFailure = await upload('during-1');
      await until(() => faulty.fake.answered.hang >= 1, 60_000, 'a request held by the provider');
      for (let i = 2; i <= 4; i++) await upload(`during-${i}`);
      // Still failing: the checkpoint has not passed the first upload made during the failure.
      const [tx, seq] = firstDuringFailure.split('.');
      const past = await faulty.svc.db.client.query<{ past: boolean }>(
        `SELECT (position_tx, position_seq) >= ($1::text::xid8, $2::bigint) AS past FROM projection_checkpoints
         WHERE name = 'chunks' AND status = 'live'`,
        [tx, seq],
      );
      expect(past.rows[0]!.past).toBe(false);
      faulty.fake.onRequest = undefined;
      faulty.fake.setMode('ok'); // the held request is cut, as a provider that comes back does
      await upload('after-1');
      await until(() => chunksCaughtUp(dbOf(faulty.svc)), 120_000, 'the projection after the recovery');
      await until(() => chunksCaughtUp(dbOf(clean.svc)), 120_000, 'the clean projection');
      expect(faulty.fake.answered).toMatchObject({ fail500: 2, fail429: 2 });
      expect(faulty.fake.answered.hang).toBeGreaterThanOrEqual(1);
      expect(await chunkAnomalies(dbOf(faulty.svc))).toEqual(NO_ANOMALIES);
      const mine = await chunksByTitle(faulty.svc);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(await chunksByTitle(clean.svc));
    },
    TIMEOUT,
  );
});
