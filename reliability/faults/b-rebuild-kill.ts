/**
 * Scenario (b): SIGKILL during `docsvc rebuild` (chunks: killed at a random number of events applied, then
 * resumed by a restarted service or rebuilt again; documents and document_versions: killed inside their one
 * transaction, then rebuilt again). Properties: every read model (and the BM25 statistics) equals an
 * uninterrupted rebuild, no chunk duplicated, a resumed rebuild goes on from its checkpoint.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anomalyTotal, chunkAnomalies, readModelDigests, type ChunkAnomalies } from './checks.js';
import type { Database } from './databases.js';
import { generateLibrary } from './library.js';
import { baseEnv, spawnCli, until, type CliRunner } from './processes.js';
import { round } from './reporting.js';
import { cliSteps, importArgs, randomInt, type Outcome, type Steps } from './steps.js';

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
    // In the first half, as in (a): a watcher starved of CPU on a busy machine must still see the point before
    // the end.
    const target = randomInt(1, Math.max(1, Math.floor(fx.events / 2)));
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
