/**
 * The fault scenarios of issue 17, one repetition each, returning their figures and the properties that failed
 * (an empty `violations` = every property held). reliability/faults.ts repeats them; test/e2e/faults.test.ts runs
 * one small repetition of (a), (b) and (d). Every kill point is found from the database's state (rows written so
 * far, locks held), never from a timer, except where the scenario is a duration (PostgreSQL kept down, the
 * provider failing for a while).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  anomalyTotal,
  baseEnv,
  call,
  chunkAnomalies,
  chunksByPath,
  chunksCaughtUp,
  EMBEDDINGS_ENV,
  FakeEmbeddings,
  freshDatabase,
  generateLibrary,
  missingFrom,
  note,
  privateCluster,
  readModelDigests,
  round,
  runCli,
  spawnCli,
  startServe,
  until,
  uploadBody,
  type Answer,
  type ChunkAnomalies,
  type CliRunner,
  type Cluster,
  type Database,
  type Library,
  type Service,
} from './faults-support.js';

export interface Outcome<F> {
  figures: F;
  violations: string[];
}

const randomInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

async function stopGracefully(svc: Service): Promise<void> {
  await svc.kill('SIGTERM');
}

/**
 * The steps around the process that is killed: by the CLI as a user runs it (the long run), or in the test's own
 * process (the short run in npm test, where each child started through tsx costs seconds).
 */
export interface Steps {
  createDatabase(serverUrl: string, env: Record<string, string>): Promise<Database>;
  /** `docsvc <args>` to its end (import, rebuild). */
  run(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /**
   * A service that runs until the chunks projection has caught up with every event, then stops; resolves with the
   * seconds from its start to caught up.
   */
  project(db: Database, env: Record<string, string>): Promise<number>;
}

export function cliSteps(cli: CliRunner): Steps {
  return {
    createDatabase: (serverUrl, env) => freshDatabase(serverUrl, cli, env),
    run: (args, env) => runCli(cli, args, env),
    async project(db, env) {
      const started = Date.now();
      const svc = await startServe(cli, env);
      try {
        await until(() => chunksCaughtUp(db), 600_000, 'the projection to catch up', 50);
        return (Date.now() - started) / 1000;
      } finally {
        await stopGracefully(svc);
      }
    },
  };
}

// =========================================================================================================
// (a) SIGKILL during a folder import, then during the projection of what it imported

export interface ImportFixture {
  cli: CliRunner;
  steps: Steps;
  db: Database;
  library: Library;
  env: Record<string, string>;
  /** The chunks of one uninterrupted import and projection of the same folder (coach `ref`). */
  reference: string[];
  dispose(): Promise<void>;
}

export async function importFixture(o: {
  cli: CliRunner;
  serverUrl: string;
  files: number;
  dataDir: string;
  steps?: Steps;
}): Promise<ImportFixture> {
  const steps = o.steps ?? cliSteps(o.cli);
  const env = baseEnv(o.dataDir);
  const db = await steps.createDatabase(o.serverUrl, env);
  const library = generateLibrary(o.files, 17);
  const envDb = { ...env, DATABASE_URL: db.url };
  const clean = await steps.run(importArgs(library, 'ref'), envDb);
  if (clean.code !== 0) throw new Error(`the reference import failed: ${clean.stderr.slice(-2000)}`);
  await steps.project(db, envDb);
  const reference = await chunksByPath(db, 'ref');
  return {
    cli: o.cli,
    steps,
    db,
    library,
    env: envDb,
    reference,
    async dispose() {
      library.remove();
      await db.drop();
    },
  };
}

const importArgs = (library: Library, coach: string, ...more: string[]) => [
  'import',
  library.root,
  ...['--coach', coach, '--type', 'guide', '--tier', 'free', '--json', ...more],
];

export interface ImportKillFigures {
  files: number;
  /** Documents of the coach committed when the import was killed, and the kill point aimed at. */
  documentsAtKill: number;
  killTarget: number;
  /** The kill came before the import had written every file. */
  killedMidImport: boolean;
  eventsBeforeKill: number;
  lostEvents: number;
  secondRun: { code: number | null; created: number; unchanged: number; duplicates: number; failed: number };
  documents: number;
  doubledDocuments: number;
  doubledPaths: number;
  streamsWithExtraEvents: number;
  filesMissing: number;
  /** The service killed while projecting: documents with chunks at the kill, of `files`. */
  chunkedDocumentsAtKill: number;
  killedMidProjection: boolean;
  catchUpSeconds: number;
  anomalies: ChunkAnomalies;
  chunks: number;
  chunksMissingVsReference: number;
  chunksExtraVsReference: number;
}

export async function importKillOnce(fx: ImportFixture, repeat: number): Promise<Outcome<ImportKillFigures>> {
  const { db, library, cli } = fx;
  const coach = `killed-${repeat}-${Date.now().toString(36)}`;
  const n = library.files.length;
  const violations: string[] = [];
  const docsOf = async () =>
    Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM documents WHERE coach_id = $1', [coach]))[0]!
        .n,
    );
  const eventIds = async () =>
    (
      await db.query<{ id: string }>(
        `SELECT e.event_id::text AS id FROM events e JOIN documents d ON e.stream_id = 'document-' || d.document_id
         WHERE d.coach_id = $1`,
        [coach],
      )
    ).map((r) => r.id);

  // 1. The import, SIGKILLed once the database holds `killTarget` of its documents.
  const killTarget = randomInt(1, Math.max(1, Math.floor(n * 0.9)));
  const run = spawnCli(cli, importArgs(library, coach, '--concurrency', String(randomInt(1, 4))), fx.env);
  let exitedFirst = false;
  await until(
    async () => (run.child.exitCode !== null ? (exitedFirst = true) : (await docsOf()) >= killTarget),
    300_000,
    `${killTarget} documents imported`,
    5,
  );
  const acknowledged = await eventIds(); // committed before the kill: these must all survive it
  await run.kill('SIGKILL');
  const documentsAtKill = await docsOf();
  const killedMidImport = !exitedFirst && documentsAtKill < n;
  if (!killedMidImport) violations.push('the import ended before it could be killed (use more files)');
  const present = new Set(await eventIds());
  const lostEvents = acknowledged.filter((id) => !present.has(id)).length;
  if (lostEvents > 0) violations.push(`${lostEvents} events committed before the kill are gone`);

  // 2. Run again: it finishes, and every file is one document.
  const second = await fx.steps.run(importArgs(library, coach), fx.env);
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(second.stdout) as Record<string, unknown>;
  } catch {
    violations.push(`the second run printed no report: ${second.stderr.slice(-500)}`);
  }
  const secondRun = {
    code: second.code,
    created: Number(report.created ?? -1),
    unchanged: Number(report.unchanged ?? -1),
    duplicates: Number(report.duplicates ?? -1),
    failed: Array.isArray(report.failed) ? report.failed.length : -1,
  };
  if (second.code !== 0)
    violations.push(`the second run exited ${second.code}: ${second.stderr.slice(-500)}`);
  if (secondRun.created + secondRun.unchanged !== n || secondRun.duplicates !== 0 || secondRun.failed !== 0)
    violations.push(`the second run reported ${JSON.stringify(secondRun)} for ${n} files`);
  const [counts] = await db.query<{ documents: string; paths: string; hashes: string }>(
    `SELECT count(*) AS documents, count(DISTINCT source_path) AS paths, count(DISTINCT source_sha256) AS hashes
     FROM documents WHERE coach_id = $1`,
    [coach],
  );
  const documents = Number(counts!.documents);
  const doubledDocuments = documents - Number(counts!.hashes);
  const doubledPaths = documents - Number(counts!.paths);
  const [extra] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM documents d WHERE d.coach_id = $1
       AND (SELECT count(*) FROM events e WHERE e.stream_id = 'document-' || d.document_id) <> 1`,
    [coach],
  );
  const streamsWithExtraEvents = Number(extra!.n);
  const hashes = new Set(
    (
      await db.query<{ h: string }>('SELECT source_sha256 AS h FROM documents WHERE coach_id = $1', [coach])
    ).map((r) => r.h),
  );
  const filesMissing = library.files.filter((f) => !hashes.has(f.sha256)).length;
  if (documents !== n) violations.push(`${documents} documents for ${n} files`);
  if (doubledDocuments > 0) violations.push(`${doubledDocuments} documents share a file hash`);
  if (doubledPaths > 0) violations.push(`${doubledPaths} documents share a path`);
  if (streamsWithExtraEvents > 0)
    violations.push(`${streamsWithExtraEvents} documents have other than one event`);
  if (filesMissing > 0) violations.push(`${filesMissing} files have no document`);

  // 3. The service projects the import; SIGKILLed once `chunkTarget` documents have chunks, then started again.
  const chunked = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT count(DISTINCT document_id) AS n FROM chunks WHERE coach_id = $1',
          [coach],
        )
      )[0]!.n,
    );
  // In the first half: a watcher starved of CPU on a busy machine must still see the point before the end.
  const chunkTarget = randomInt(1, Math.max(1, Math.floor(n / 2)));
  const projectingEnv = { ...fx.env, PROJECTOR_BATCH_SIZE: String(randomInt(5, 20)) };
  const first = await startServe(cli, projectingEnv);
  await until(async () => (await chunked()) >= chunkTarget || (await chunksCaughtUp(db)), 600_000, 'chunks');
  await first.kill('SIGKILL');
  const chunkedDocumentsAtKill = await chunked();
  const killedMidProjection = chunkedDocumentsAtKill < n;
  if (!killedMidProjection) violations.push('the projection had caught up before the kill (use more files)');
  const catchUpSeconds = await fx.steps.project(db, fx.env);
  const anomalies = await chunkAnomalies(db, coach);
  if (anomalyTotal(anomalies) > 0) violations.push(`chunk anomalies: ${JSON.stringify(anomalies)}`);
  const mine = await chunksByPath(db, coach);
  const chunksMissingVsReference = missingFrom(fx.reference, mine);
  const chunksExtraVsReference = missingFrom(mine, fx.reference);
  if (chunksMissingVsReference + chunksExtraVsReference > 0)
    violations.push(
      `chunks differ from an uninterrupted run: ${chunksMissingVsReference} missing, ${chunksExtraVsReference} extra`,
    );
  return {
    figures: {
      files: n,
      documentsAtKill,
      killTarget,
      killedMidImport,
      eventsBeforeKill: acknowledged.length,
      lostEvents,
      secondRun,
      documents,
      doubledDocuments,
      doubledPaths,
      streamsWithExtraEvents,
      filesMissing,
      chunkedDocumentsAtKill,
      killedMidProjection,
      catchUpSeconds: round(catchUpSeconds),
      anomalies,
      chunks: mine.length,
      chunksMissingVsReference,
      chunksExtraVsReference,
    },
    violations,
  };
}

// =========================================================================================================
// (b) SIGKILL during a rebuild

export type RebuildKind = 'chunks-resume' | 'chunks-rerun' | 'documents' | 'document_versions';
export const REBUILD_KINDS: RebuildKind[] = [
  'chunks-resume',
  'chunks-rerun',
  'documents',
  'document_versions',
];

export interface RebuildFixture {
  cli: CliRunner;
  steps: Steps;
  db: Database;
  env: Record<string, string>;
  /** The read models after an uninterrupted rebuild of every projection. */
  reference: Record<string, string>;
  events: number;
  /** How long an uninterrupted inline rebuild took, ms (the window a kill inside it aims at). */
  inlineMs: Record<'documents' | 'document_versions', number>;
  dispose(): Promise<void>;
}

/** A library imported, a tenth of it changed and imported again (new versions), a twentieth removed and retired. */
export async function rebuildFixture(o: {
  cli: CliRunner;
  serverUrl: string;
  files: number;
  dataDir: string;
  steps?: Steps;
  /** Measure the inline rebuilds too (the kinds `documents` and `document_versions` need it). Default true. */
  inline?: boolean;
}): Promise<RebuildFixture> {
  const steps = o.steps ?? cliSteps(o.cli);
  const env = baseEnv(o.dataDir);
  const db = await steps.createDatabase(o.serverUrl, env);
  const envDb = { ...env, DATABASE_URL: db.url };
  const library = generateLibrary(o.files, 29);
  try {
    const must = async (args: string[], what: string) => {
      const r = await steps.run(args, envDb);
      if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`);
      return r;
    };
    await must(importArgs(library, 'rb'), 'the import');
    library.files.forEach((f, i) => {
      if (i % 10 === 3)
        writeFileSync(
          join(library.root, f.path),
          `${readFileSync(join(library.root, f.path), 'utf8')}\n\nRevised.\n`,
        );
    });
    library.files.forEach((f, i) => i % 20 === 7 && rmSync(join(library.root, f.path)));
    await must(importArgs(library, 'rb', '--retire-missing'), 'the second import');
    // A first projection by the service (a rebuild of a projection that never ran does not finish: see the report).
    await steps.project(db, envDb);
    await must(['rebuild', 'chunks'], 'the reference rebuild of chunks');
    // How long each inline rebuild holds its lock (its transaction), seen from outside as the kill will be.
    const inlineMs = { documents: 0, document_versions: 0 };
    for (const name of o.inline === false ? [] : (['documents', 'document_versions'] as const)) {
      const run = spawnCli(o.cli, ['rebuild', name], envDb);
      let first: number | undefined;
      let last = 0;
      while (run.child.exitCode === null) {
        if (await streamsLocked(db)) [first, last] = [first ?? performance.now(), performance.now()];
        await new Promise((r) => setTimeout(r, 2));
      }
      if ((await run.closed) !== 0) throw new Error(`the reference rebuild of ${name} failed: ${run.stderr}`);
      inlineMs[name] = first === undefined ? 0 : last - first;
    }
    const [events] = await db.query<{ n: string }>('SELECT count(*) AS n FROM events');
    return {
      cli: o.cli,
      steps,
      db,
      env: envDb,
      reference: await readModelDigests(db),
      events: Number(events!.n),
      inlineMs,
      dispose: () => db.drop(),
    };
  } catch (error) {
    await db.drop();
    throw error;
  } finally {
    library.remove();
  }
}

/** An inline rebuild holds `streams` in EXCLUSIVE mode for its whole transaction. */
async function streamsLocked(db: Database): Promise<boolean> {
  const [row] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE d.datname = current_database() AND l.relation = 'streams'::regclass AND l.mode = 'ExclusiveLock' AND l.granted`,
  );
  return row!.n !== '0';
}

export interface RebuildKillFigures {
  kind: RebuildKind;
  /** chunks: events the rebuild had applied at the kill (of `events`); inline: the kill came inside its transaction. */
  appliedAtKill?: number;
  events: number;
  killedMidRebuild: boolean;
  /** chunks-resume: the restarted service went on from the checkpoint (no new reset). */
  resumed?: boolean;
  /** inline: the read model straight after the kill equals the reference (the transaction rolled back whole). */
  intactAfterKill?: boolean;
  finishSeconds: number;
  differing: string[];
  anomalies: ChunkAnomalies;
}

export async function rebuildKillOnce(
  fx: RebuildFixture,
  kind: RebuildKind,
): Promise<Outcome<RebuildKillFigures>> {
  const { db, cli } = fx;
  const violations: string[] = [];
  const figures: Partial<RebuildKillFigures> = { kind, events: fx.events };
  const checkpoint = async () =>
    (
      await db.query<{ applied: string; rebuilds: number; requested: boolean; status: string }>(
        `SELECT events_applied AS applied, rebuilds, rebuild_requested_at IS NOT NULL AS requested, status
         FROM projection_checkpoints WHERE name = 'chunks' AND status <> 'retired'`,
      )
    )[0]!;
  let finishStarted: number;
  if (kind === 'chunks-resume' || kind === 'chunks-rerun') {
    const before = await checkpoint();
    const target = randomInt(1, Math.max(1, Math.floor(fx.events / 2))); // the first half, as above
    const run = spawnCli(cli, ['rebuild', 'chunks'], {
      ...fx.env,
      PROJECTOR_BATCH_SIZE: String(randomInt(5, 20)),
    });
    let exitedFirst = false;
    await until(
      async () => {
        if (run.child.exitCode !== null) return (exitedFirst = true);
        const c = await checkpoint();
        return c.rebuilds > before.rebuilds && !c.requested && Number(c.applied) >= target;
      },
      600_000,
      `the rebuild to pass ${target} events`,
      5,
    );
    await run.kill('SIGKILL');
    const atKill = await checkpoint();
    figures.appliedAtKill = Number(atKill.applied);
    figures.killedMidRebuild = !exitedFirst && atKill.status === 'building';
    if (!figures.killedMidRebuild)
      violations.push('the rebuild had finished before the kill (use more files)');
    finishStarted = Date.now();
    if (kind === 'chunks-resume') {
      await fx.steps.project(db, fx.env);
      figures.resumed = (await checkpoint()).rebuilds === atKill.rebuilds;
      if (!figures.resumed)
        violations.push('the restarted service started the rebuild over instead of resuming it');
    } else {
      const again = await fx.steps.run(['rebuild', 'chunks'], fx.env);
      if (again.code !== 0)
        violations.push(`the second rebuild exited ${again.code}: ${again.stderr.slice(-500)}`);
    }
  } else {
    // Inline: one transaction that holds `streams` in EXCLUSIVE mode; killed at a random point inside it.
    const locked = () => streamsLocked(db);
    const run = spawnCli(cli, ['rebuild', kind], fx.env);
    let exitedFirst = false;
    await until(
      async () => (run.child.exitCode !== null ? (exitedFirst = true) : await locked()),
      300_000,
      'the lock',
      2,
    );
    // The lock is the only outside sign of the transaction's progress: the kill aims at a random moment of the
    // time an uninterrupted rebuild held it (measured in the fixture), and counts only if the lock is still held.
    await new Promise((r) => setTimeout(r, Math.random() * fx.inlineMs[kind] * 0.7));
    const inside = !exitedFirst && (await locked());
    await run.kill('SIGKILL');
    figures.killedMidRebuild = inside;
    if (!inside) violations.push('the kill did not land inside the rebuild transaction');
    await until(async () => !(await locked()), 60_000, 'the killed transaction to end');
    const now = await readModelDigests(db);
    figures.intactAfterKill = now[kind] === fx.reference[kind];
    if (!figures.intactAfterKill)
      violations.push(`${kind} differs straight after the kill (a partial rebuild shows)`);
    finishStarted = Date.now();
    const again = await fx.steps.run(['rebuild', kind], fx.env);
    if (again.code !== 0)
      violations.push(`the second rebuild exited ${again.code}: ${again.stderr.slice(-500)}`);
  }
  figures.finishSeconds = round((Date.now() - finishStarted) / 1000);
  const now = await readModelDigests(db);
  figures.differing = Object.keys(fx.reference).filter((k) => now[k] !== fx.reference[k]);
  if (figures.differing.length > 0)
    violations.push(`differ from a fresh rebuild: ${figures.differing.join(', ')}`);
  figures.anomalies = await chunkAnomalies(db);
  if (anomalyTotal(figures.anomalies) > 0)
    violations.push(`chunk anomalies: ${JSON.stringify(figures.anomalies)}`);
  return { figures: figures as RebuildKillFigures, violations };
}

// =========================================================================================================
// (c) PostgreSQL restarted under load

export interface RestartFixture {
  cli: CliRunner;
  cluster: Cluster;
  db: Database;
  svc: Service;
  env: Record<string, string>;
  acks: Array<{ documentId: string; version: number; position: string }>;
  /** The stderr tails of service processes that died (each is started again for the next repetition). */
  crashes: string[];
  dispose(): Promise<void>;
}

export async function restartFixture(o: { cli: CliRunner; dataDir: string }): Promise<RestartFixture> {
  const cluster = await privateCluster();
  try {
    const env = baseEnv(o.dataDir);
    const db = await freshDatabase(cluster.url, o.cli, env);
    const envDb = { ...env, DATABASE_URL: db.url, PROJECTOR_POLL_MS: '200', QUERY_CACHE_TTL_SECONDS: '0' };
    const fixture: RestartFixture = {
      cli: o.cli,
      cluster,
      db,
      svc: await startServe(o.cli, envDb),
      env: envDb,
      acks: [],
      crashes: [],
      async dispose() {
        await fixture.svc.kill('SIGTERM');
        await db.pool.end().catch(() => undefined);
        await cluster.destroy();
      },
    };
    return fixture;
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

interface Sample extends Answer {
  kind: 'upload' | 'search';
  start: number;
  end: number;
}

export interface RestartFigures {
  /** When PostgreSQL was down: from `pg_ctl stop` returning to `pg_ctl start` being called. */
  downSeconds: number;
  stopSeconds: number;
  startSeconds: number;
  requestsWhileDown: number;
  statusesWhileDown: Record<string, number>;
  max503MsWhileDown: number;
  maxMsWhileDown: number;
  /** Requests under way when PostgreSQL went down or came back (not counted above), by status. */
  statusesAcrossTransitions: Record<string, number>;
  maxMsAcrossTransitions: number;
  /** No answer within the client's deadline. */
  hung: number;
  /** Connections refused: the service's process was gone. */
  refusedConnections: number;
  recoverSeconds: number;
  /** The service's process is the same one (it was not restarted). */
  sameProcess: boolean;
  acknowledgedWrites: number;
  missingWrites: number;
  projectorCaughtUpSeconds: number;
  anomalies: ChunkAnomalies;
}

export async function restartOnce(
  fx: RestartFixture,
  o: { downMs: number; concurrency: number; hangMs: number },
): Promise<Outcome<RestartFigures>> {
  const violations: string[] = [];
  if (fx.svc.child.exitCode !== null || fx.svc.child.signalCode !== null) {
    note('  the service died in an earlier repetition: started again');
    fx.svc = await startServe(fx.cli, fx.env);
  }
  const { svc, cluster, db } = fx;
  const samples: Sample[] = [];
  const acks: RestartFixture['acks'] = [];
  let running = true;
  const marker = Date.now().toString(36);
  let seq = 0;
  const worker = async (w: number) => {
    while (running) {
      const kind = (seq + w) % 2 === 0 ? 'upload' : 'search';
      const start = Date.now();
      const answer =
        kind === 'upload'
          ? await call(svc.base, 'POST', '/documents', uploadBody('pgr', `m${marker}x${seq++}`), o.hangMs)
          : await call(
              svc.base,
              'POST',
              '/search',
              { coachId: 'pgr', query: 'protein sleep recovery', k: 5 },
              o.hangMs,
            );
      samples.push({ ...answer, kind, start, end: Date.now() });
      if (kind === 'upload' && answer.status >= 200 && answer.status < 300 && answer.body?.position)
        acks.push({
          documentId: String(answer.body.documentId),
          version: Number(answer.body.version),
          position: String(answer.body.position),
        });
      // A failure answered at once must not become a busy loop that starves the machine.
      if (answer.status !== 201 && answer.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const workers = Array.from({ length: o.concurrency }, (_, w) => worker(w));
  const okSince = (t: number, kind: Sample['kind']) =>
    samples.some((s) => s.kind === kind && s.start >= t && s.status < 300 && s.status > 0);
  try {
    await until(
      () => okSince(0, 'upload') && okSince(0, 'search') && acks.length >= 5,
      120_000,
      'load under way',
    );
    const stop0 = Date.now();
    await cluster.stop();
    const stop1 = Date.now();
    await new Promise((r) => setTimeout(r, o.downMs)); // the scenario: PostgreSQL stays down this long
    const start0 = Date.now();
    await cluster.start();
    const start1 = Date.now();
    const alive = () => svc.child.exitCode === null && svc.child.signalCode === null;
    await until(
      () => !alive() || (okSince(start1, 'upload') && okSince(start1, 'search')),
      120_000,
      'requests to succeed again',
      20,
    );
    const firstOk = (k: Sample['kind']) =>
      samples
        .filter((s) => s.kind === k && s.start >= start1 && s.status > 0 && s.status < 300)
        .sort((a, b) => a.end - b.end)[0]?.end ?? Number.NaN;
    const recovered = Math.max(firstOk('upload'), firstOk('search'));
    running = false;
    await Promise.all(workers);
    const down = samples.filter((s) => s.start >= stop1 && s.end <= start0);
    const across = samples.filter(
      (s) =>
        !down.includes(s) && ((s.start < stop1 && s.end > stop0) || (s.start < start1 && s.end > start0)),
    );
    const histogram = (list: Sample[]) =>
      list.reduce<Record<string, number>>(
        (h, s) => ((h[s.status || 'none'] = (h[s.status || 'none'] ?? 0) + 1), h),
        {},
      );
    const statusesWhileDown = histogram(down);
    const pid = alive();
    // A request our deadline ended is a hang; a refused connection (the process gone) is not.
    const hung = samples.filter((s) => s.status === 0 && /abort|timeout/i.test(s.error ?? '')).length;
    const refused = samples.filter((s) => s.status === 0 && !/abort|timeout/i.test(s.error ?? '')).length;
    if (!pid) {
      const crash = /\n(\w*[Ee]rror: [^\n]*)/.exec(svc.stderr)?.[1] ?? svc.stderr.slice(-300);
      violations.push(
        `the service process died (exit ${svc.child.exitCode ?? svc.child.signalCode}): ${crash}`,
      );
      fx.crashes.push(svc.stderr.slice(-4000));
    }
    // Every acknowledged write is in the log, at its version.
    fx.acks.push(...acks);
    const found = await db.query<{ stream_id: string; stream_position: string }>(
      `SELECT stream_id, stream_position FROM events WHERE stream_id = ANY($1::text[])`,
      [acks.map((a) => `document-${a.documentId}`)],
    );
    const have = new Set(found.map((r) => `${r.stream_id}@${r.stream_position}`));
    const missingWrites = acks.filter((a) => !have.has(`document-${a.documentId}@${a.version}`)).length;
    const caughtUpFrom = Date.now();
    if (pid)
      await until(() => chunksCaughtUp(db), 300_000, 'the projector after the restart', 50).catch(
        (e: Error) => violations.push(e.message),
      );
    const projectorCaughtUpSeconds = (Date.now() - caughtUpFrom) / 1000;
    const anomalies = await chunkAnomalies(db);
    const figures: RestartFigures = {
      downSeconds: round((start0 - stop1) / 1000),
      stopSeconds: round((stop1 - stop0) / 1000, 2),
      startSeconds: round((start1 - start0) / 1000, 2),
      requestsWhileDown: down.length,
      statusesWhileDown,
      max503MsWhileDown: Math.round(Math.max(0, ...down.filter((s) => s.status === 503).map((s) => s.ms))),
      maxMsWhileDown: Math.round(Math.max(0, ...down.map((s) => s.ms))),
      statusesAcrossTransitions: histogram(across),
      maxMsAcrossTransitions: Math.round(Math.max(0, ...across.map((s) => s.ms))),
      hung,
      refusedConnections: refused,
      recoverSeconds: round((recovered - start1) / 1000, 2),
      sameProcess: pid,
      acknowledgedWrites: acks.length,
      missingWrites,
      projectorCaughtUpSeconds: round(projectorCaughtUpSeconds),
      anomalies,
    };
    if (down.length === 0) violations.push('no request was made while PostgreSQL was down');
    const not503 = down.filter((s) => s.status !== 503).length;
    if (not503 > 0)
      violations.push(
        `${not503} of ${down.length} requests while down were not 503: ${JSON.stringify(statusesWhileDown)}`,
      );
    if (hung > 0) violations.push(`${hung} requests got no answer within ${o.hangMs} ms`);
    if (missingWrites > 0) violations.push(`${missingWrites} acknowledged writes are not in the log`);
    // A dead service's projector stopped where it was: its chunks are not checked.
    if (pid && anomalyTotal(anomalies) > 0) violations.push(`chunk anomalies: ${JSON.stringify(anomalies)}`);
    return { figures, violations };
  } finally {
    running = false;
    await Promise.all(workers);
  }
}

// =========================================================================================================
// (d) The embedding provider failing: 500, then 429, then hanging, then back

export interface ProviderFixture {
  cli: CliRunner;
  faulty: { db: Database; svc: Service; fake: FakeEmbeddings };
  clean: { db: Database; svc: Service; fake: FakeEmbeddings };
  dispose(): Promise<void>;
}

export async function providerFixture(o: {
  cli: CliRunner;
  serverUrl: string;
  dataDir: string;
}): Promise<ProviderFixture> {
  const make = async (dir: string) => {
    const fake = new FakeEmbeddings();
    const baseUrl = await fake.start();
    const env = { ...baseEnv(dir), ...EMBEDDINGS_ENV(baseUrl) };
    const db = await freshDatabase(o.serverUrl, o.cli, env);
    const svc = await startServe(o.cli, { ...env, DATABASE_URL: db.url, PROJECTOR_POLL_MS: '200' });
    return { db, svc, fake };
  };
  const faulty = await make(`${o.dataDir}-faulty`);
  const clean = await make(`${o.dataDir}-clean`);
  return {
    cli: o.cli,
    faulty,
    clean,
    async dispose() {
      for (const side of [faulty, clean]) {
        await side.svc.kill('SIGTERM');
        await side.fake.close();
        await side.db.drop();
      }
    },
  };
}

export interface ProviderFigures {
  phaseSeconds: { fail500: number; fail429: number; hang: number };
  requestsByMode: Record<string, number>;
  uploads: number;
  uploadsFailed: number;
  uploadsDuringFailure: number;
  /** The checkpoint did not pass the first event uploaded during the failure before the provider came back. */
  projectionWaited: boolean;
  recoverSeconds: number;
  documentsWithoutChunks: number;
  deadLetters: number;
  chunks: number;
  cleanChunks: number;
  chunksMissingVsClean: number;
  chunksExtraVsClean: number;
  anomalies: ChunkAnomalies;
}

/** Each document's current chunks by title (ids differ between the two databases). */
async function chunksByTitle(db: Database, coachId: string): Promise<string[]> {
  const rows = await db.query<{ line: string }>(
    `SELECT d.title || '|' || c.chunk_index || '|' || md5(c.content) || '|' || md5(c.embedding::text) AS line
     FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE c.is_current AND d.coach_id = $1 ORDER BY 1`,
    [coachId],
  );
  return rows.map((r) => r.line);
}

export async function providerOnce(
  fx: ProviderFixture,
  repeat: number,
  o: { fail500Ms: number; fail429Ms: number; hangMs: number; uploadEveryMs: number },
): Promise<Outcome<ProviderFigures>> {
  const violations: string[] = [];
  const coach = `emb-${repeat}-${Date.now().toString(36)}`;
  const { faulty, clean } = fx;
  faulty.fake.setMode('ok');
  const before = { ...faulty.fake.answered };
  let uploads = 0;
  let uploadsFailed = 0;
  let duringFailure = 0;
  let firstFailurePosition: string | undefined;
  let failing = false;
  let running = true;
  const uploader = (async () => {
    for (let i = 0; running; i++) {
      const body = uploadBody(coach, `${coach}-n${i}`);
      const [a, b] = await Promise.all([
        call(faulty.svc.base, 'POST', '/documents', body),
        call(clean.svc.base, 'POST', '/documents', body),
      ]);
      uploads++;
      if (a.status !== 201 || b.status !== 201) uploadsFailed++;
      if (failing) {
        duringFailure++;
        firstFailurePosition ??= a.body?.position as string | undefined;
      }
      await new Promise((r) => setTimeout(r, o.uploadEveryMs)); // the load's pace
    }
  })();
  const checkpointPast = async (position: string) => {
    const [tx, seq] = position.split('.');
    const [row] = await faulty.db.query<{ past: boolean }>(
      `SELECT (position_tx, position_seq) >= ($1::text::xid8, $2::bigint) AS past FROM projection_checkpoints
       WHERE name = 'chunks' AND status = 'live'`,
      [tx, seq],
    );
    return row?.past ?? false;
  };
  let projectionWaited = true;
  try {
    await until(() => uploads >= 3, 60_000, 'uploads');
    failing = true;
    for (const [mode, ms] of [
      ['fail500', o.fail500Ms],
      ['fail429', o.fail429Ms],
      ['hang', o.hangMs],
    ] as const) {
      note(`  provider: ${mode} for ${ms / 1000} s`);
      faulty.fake.setMode(mode);
      await new Promise((r) => setTimeout(r, ms)); // the scenario: the provider fails this long
    }
    if (firstFailurePosition && (await checkpointPast(firstFailurePosition))) projectionWaited = false;
    faulty.fake.setMode('ok');
    failing = false;
    const recoveredAt = Date.now();
    await until(() => uploads >= duringFailure + 6, 60_000, 'uploads after the recovery');
    running = false;
    await uploader;
    await until(() => chunksCaughtUp(faulty.db), 600_000, 'the projection after the recovery', 50).catch(
      (e: Error) => violations.push(e.message),
    );
    const recoverSeconds = (Date.now() - recoveredAt) / 1000;
    await until(() => chunksCaughtUp(clean.db), 600_000, 'the clean projection', 50);
    const anomalies = await chunkAnomalies(faulty.db, coach);
    const mine = await chunksByTitle(faulty.db, coach);
    const theirs = await chunksByTitle(clean.db, coach);
    const requestsByMode = Object.fromEntries(
      Object.entries(faulty.fake.answered).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
    );
    const figures: ProviderFigures = {
      phaseSeconds: { fail500: o.fail500Ms / 1000, fail429: o.fail429Ms / 1000, hang: o.hangMs / 1000 },
      requestsByMode,
      uploads,
      uploadsFailed,
      uploadsDuringFailure: duringFailure,
      projectionWaited,
      recoverSeconds: round(recoverSeconds),
      documentsWithoutChunks: anomalies.activeWithoutChunks,
      deadLetters: anomalies.deadLetters,
      chunks: mine.length,
      cleanChunks: theirs.length,
      chunksMissingVsClean: missingFrom(theirs, mine),
      chunksExtraVsClean: missingFrom(mine, theirs),
      anomalies,
    };
    if (uploadsFailed > 0) violations.push(`${uploadsFailed} uploads failed while the provider was failing`);
    if (duringFailure === 0) violations.push('no upload during the failure');
    if (!projectionWaited)
      violations.push(
        'the projection went past an upload made during the failure before the provider came back',
      );
    for (const mode of ['fail500', 'fail429', 'hang'] as const)
      if ((requestsByMode[mode] ?? 0) === 0) violations.push(`the provider got no request while in ${mode}`);
    if (anomalyTotal(anomalies) > 0) violations.push(`chunk anomalies: ${JSON.stringify(anomalies)}`);
    if (figures.chunksMissingVsClean + figures.chunksExtraVsClean > 0 || mine.length === 0)
      violations.push(
        `chunks differ from a clean run: ${mine.length} vs ${theirs.length} (${figures.chunksMissingVsClean} missing, ${figures.chunksExtraVsClean} extra)`,
      );
    return { figures, violations };
  } finally {
    running = false;
    faulty.fake.setMode('ok');
    await uploader;
  }
}
