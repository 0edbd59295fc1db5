/**
 * Scenario (d): the embedding provider failing (500, then 429, then hanging, then back) while uploads go on.
 * Properties: no upload fails, the chunks projection waits (never passes an upload made during the failure) and
 * catches up after, no dead letter, every document has its chunks, and they equal those of a second service
 * whose provider never failed, given the same uploads.
 */
import { anomalyTotal, chunkAnomalies, chunksCaughtUp, missingFrom, type ChunkAnomalies } from './checks.js';
import { freshDatabase, type Database } from './databases.js';
import { EMBEDDINGS_ENV, FakeEmbeddings } from '../../test/support/fake-embeddings.js';
import { call } from './http.js';
import { uploadBody } from './library.js';
import { baseEnv, startServe, until, type CliRunner, type Service } from './processes.js';
import { note, round } from './reporting.js';
import type { Outcome } from './steps.js';

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
