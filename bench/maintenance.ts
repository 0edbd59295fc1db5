/**
 * A maintenance run after editing 10 % of the corpus (issue 15): its time and its effect (rows, bytes).
 *
 * 1. The speed bench's generated corpus (bench/corpus.ts: documents of 2,000–8,000 tokens, ~20 chunks each)
 *    goes through POST /documents to the service started in-process on a fresh database, until the chunks
 *    projection has caught up; then one maintenance run (the "after load" row: it also measures the vector
 *    index, which the next run judges against).
 * 2. 10 % of the documents get new content (PATCH), the projection catches up, and one maintenance run is timed
 *    (the "after editing 10 %" row): the edits closed a tenth of the current chunks, which VACUUM reclaims and
 *    the vector index's dead entries count.
 *
 * Prints a markdown table: one row per run, with each task's figures. Not part of the test suite.
 * Run: npm run bench:maintenance -- [--documents 5000] [--engine postgres|pglite]
 *      [--database-url postgres://postgres@127.0.0.1:5432/test] [--concurrency 4]
 */
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app/bootstrap.js';
import { MaintenanceRunner } from '../src/projections/maintenance/maintenance-runner.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { comparePositions, parsePosition } from '../src/infrastructure/event-store/position.js';
import { ProjectionEngine } from '../src/infrastructure/projections/projection-engine.js';
import type { MaintenanceReport, TaskReport } from '../src/projections/maintenance/maintenance-report.js';
import { formatBytes, formatDuration } from '../src/projections/maintenance/maintenance-report.js';
import { makeDoc, pick } from './corpus.js';
import { arg, benchDatabase, fmt } from './support.js';

const documents = Number(arg('documents', '5000'));
const engine = arg('engine', 'postgres') as 'postgres' | 'pglite';
const concurrency = Number(arg('concurrency', '4'));
const serverUrl = arg(
  'database-url',
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);
const KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const note = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

const db = await benchDatabase(engine, serverUrl);
const app = await createApp(
  loadConfig({
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ADMIN_API_KEY: KEY,
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000',
    MAINTENANCE_ENABLED: 'false',
  }),
  // The embedded database is handed over (one process holds it); on a server the service opens its own pool.
  engine === 'pglite' ? db.client : undefined,
);
/**
 * The run itself, in the service's process (what POST /admin/maintenance runs): over HTTP a run of minutes outlasts
 * fetch's five-minute wait for the response headers.
 */
const runMaintenance = (): Promise<MaintenanceReport> => app.get(MaintenanceRunner).run('api');
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Writes with `concurrency` at a time; the last position written, to wait for the projection. */
async function writeAll(count: number, write: (i: number) => Promise<{ position: string }>): Promise<string> {
  let [next, last] = [0, '0.0'];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const { position } = await write(i);
        if (comparePositions(parsePosition(position), parsePosition(last)) > 0) last = position;
      }
    }),
  );
  return last;
}

async function caughtUp(position: string): Promise<void> {
  if (!(await app.get(ProjectionEngine).waitUntilCaughtUp({ position, timeoutMs: 7_200_000 })))
    throw new Error('the chunks projection did not catch up');
}

const currentChunks = async () =>
  (await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE is_current')).rows[0]!.n;

function row(label: string, r: MaintenanceReport, chunks: number): string {
  const t = (name: TaskReport['name']) => r.tasks.find((x) => x.name === name)!;
  const consistency = t('consistency').details as {
    documents: number;
    chunkVersions: number;
    differencesTotal: number;
  };
  const vacuum = t('vacuum').details as {
    tables: Array<{ bytesBefore: number; bytesAfter: number; deadRowsBefore: number }>;
  };
  const dead = vacuum.tables.reduce((n, x) => n + x.deadRowsBefore, 0);
  const before = vacuum.tables.reduce((n, x) => n + x.bytesBefore, 0);
  const after = vacuum.tables.reduce((n, x) => n + x.bytesAfter, 0);
  const index = t('vector-index');
  const current = ((index.details.indexes as Array<Record<string, unknown>> | undefined) ?? []).find(
    (i) => !String(i.index).endsWith('_past'),
  );
  const indexCell = current
    ? `${current.action}${current.bloatPercent === undefined ? '' : `, ${current.bloatPercent} % dead`}` +
      `${current.sizeAfterBytes === undefined ? '' : `, ${formatBytes(current.sizeBytes as number)} → ${formatBytes(current.sizeAfterBytes as number)}`}`
    : index.status === 'skipped'
      ? 'skipped'
      : 'no index yet';
  const rows = r.tasks.reduce((n, x) => n + x.rows, 0);
  const bytes = r.tasks.reduce((n, x) => n + x.bytes, 0);
  const cells = [
    label,
    db.label,
    fmt(documents),
    fmt(chunks),
    formatDuration(r.durationMs ?? 0),
    ...r.tasks.map((x) => formatDuration(x.durationMs)),
    `${fmt(consistency.documents)} docs, ${fmt(consistency.chunkVersions)} chunk versions, ${consistency.differencesTotal} differences`,
    `${t('query-cache').rows} / ${t('orphans').rows} / ${t('orphan-files').rows}`,
    `${fmt(dead)} dead row versions; ${formatBytes(before)} → ${formatBytes(after)}`,
    indexCell,
    `${fmt(rows)} rows, ${formatBytes(bytes)}`,
    r.status,
  ];
  return `| ${cells.join(' | ')} |`;
}

try {
  note(`uploading ${documents} documents, ${concurrency} at a time (${db.label})`);
  const ids: string[] = [];
  const loaded = await writeAll(documents, async () => {
    const body = await api<{ documentId: string; position: string }>('POST', '/documents', {
      ...makeDoc('bench'),
      format: 'markdown',
    });
    ids.push(body.documentId);
    return body;
  });
  await caughtUp(loaded);
  const chunks = await currentChunks();
  note(`loaded: ${fmt(chunks)} current chunks; first maintenance run`);
  const first = await runMaintenance();

  const edited = [...ids].sort(() => Math.random() - 0.5).slice(0, Math.max(1, Math.round(ids.length / 10)));
  note(`editing ${edited.length} documents`);
  const edits = await writeAll(edited.length, (i) =>
    api('PATCH', `/documents/${edited[i]}`, {
      content: makeDoc('bench').content,
      changeSummary: pick(['bench']),
    }),
  );
  await caughtUp(edits);
  note('edited; timed maintenance run');
  const second = await runMaintenance();

  console.log(`# maintenance run — ${new Date().toISOString()}\n`);
  console.log(
    '| run | database | documents | current chunks | total | query-cache | orphans | consistency | orphan-files | vacuum | vector-index | checked | removed rows: cache / orphans / files | read tables (vacuum) | vector index | effect | status |',
  );
  console.log(`|${' --- |'.repeat(17)}`);
  console.log(row('after load', first, chunks));
  console.log(row('after editing 10 %', second, await currentChunks()));
  console.log(`\n${JSON.stringify({ first, second })}`);
} finally {
  await app.close();
  await db.dispose();
}
