/**
 * Scenario (c): PostgreSQL restarted under load. A private cluster (its own directory and port; the shared server
 * is never touched) is stopped for a while under uploads and searches, then started. Properties: requests while
 * down answer 503 within the client's deadline, the same service process answers again by itself, every
 * acknowledged write is in the log, the projector catches up.
 */
import { anomalyTotal, chunkAnomalies, chunksCaughtUp, type ChunkAnomalies } from './checks.js';
import { freshDatabase, privateCluster, type Cluster, type Database } from './databases.js';
import { call, type Answer } from './http.js';
import { uploadBody } from './library.js';
import { baseEnv, startServe, until, type CliRunner, type Service } from './processes.js';
import { note, round } from './reporting.js';
import type { Outcome } from './steps.js';

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
