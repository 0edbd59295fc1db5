/**
 * Soak (issue 17, RELIABILITY.md): the built service on its embedded database (PGlite on disk in a temp
 * DATA_DIR) under mixed load (reliability/support/mixed-load.ts `mixedLoad`: uploads, edits with If-Match, searches;
 * `--concurrency` at once, paced to `--rate` operations a second) for `--minutes`. The service's resident memory
 * (VmRSS of its pid: the extraction workers and the embedded database are in that process) is sampled every
 * minute. Holds when
 * - after the warm-up (the first sixth of the run: 10 minutes of 60) resident memory stays within 10 %: the
 *   largest minus the smallest post-warm-up sample, over the first post-warm-up sample;
 * - no request failed, and once the projectors caught up every acknowledged write is in the event log exactly
 *   once, the documents read model holds its last version, the current chunks are not duplicated (checked in the
 *   database itself after the service stopped: the embedded database belongs to one process).
 *
 * Run: npm run build && npx tsx reliability/soak.ts [--minutes 60] [--concurrency 4] [--rate 10]
 *      [--sample-seconds 60]
 * Prints `RESULT {json}` on stdout (the RSS series included); exits 1 when a property failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteSqlClient } from '../src/infrastructure/sql/pglite-client.js';
import { arg } from '../bench/support.js';
import { rssMb } from './support/memory.js';
import { mixedLoad, type MixedResult } from './support/mixed-load.js';
import { note, percentile, round } from './support/report.js';
import { caughtUp, startBuiltService, stopService } from './support/service.js';
import { verified, verifyWrites } from './support/verify-writes.js';
import { LOAD_KEYS, loadApiKeys } from './support/workload.js';

const minutes = Number(arg('minutes', '60'));
const concurrency = Number(arg('concurrency', '4'));
const rate = Number(arg('rate', '10'));
const sampleSeconds = Number(arg('sample-seconds', '60'));
const warmupMinutes = minutes / 6;
const COACH = 'soak';

const dir = mkdtempSync(join(tmpdir(), 'docsvc-soak-'));
try {
  const { child, base } = await startBuiltService({
    DATA_DIR: dir,
    API_KEYS: loadApiKeys([COACH]),
    EMBEDDINGS_PROVIDER: 'local',
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    const started = Date.now();
    const samples: Array<{ minute: number; rssMb: number }> = [];
    const sample = () => {
      if (exited) return;
      const s = { minute: round((Date.now() - started) / 60_000, 2), rssMb: round(rssMb(child.pid!)) };
      samples.push(s);
      note(`minute ${s.minute}: RSS ${s.rssMb} MB`);
    };
    sample();
    const timer = setInterval(sample, sampleSeconds * 1000);
    let mixed: MixedResult;
    try {
      note(
        `soak: ${minutes} min, ${concurrency} at once, ${rate} operations/s, warm-up ${round(warmupMinutes, 2)} min`,
      );
      mixed = await mixedLoad({
        base,
        coachId: COACH,
        editorKey: LOAD_KEYS.editor,
        searchKeys: [LOAD_KEYS.premium, LOAD_KEYS.free],
        concurrency,
        rate,
        until: started + minutes * 60_000,
      });
    } finally {
      clearInterval(timer);
    }
    sample();
    note(`load done: ${mixed.acks.length} acknowledged writes, ${mixed.failures.length} failures`);
    const deadLetters = await caughtUp(base, LOAD_KEYS.admin);
    const code = await stopService(child);
    note(`service stopped (exit ${code}); checking the database`);
    const sql = await PgliteSqlClient.open(dir);
    const v = await verifyWrites(sql, mixed.acks, mixed.uncertain, {
      coachId: COACH,
      startedAt: mixed.startedAt,
      uncertainUploads: mixed.uncertainUploads,
    }).finally(() => sql.close());
    for (const d of v.details) note(d);
    for (const f of mixed.failures.slice(0, 10)) note(`failure: ${JSON.stringify(f)}`);

    const after = samples.filter((s) => s.minute >= warmupMinutes);
    const values = after.map((s) => s.rssMb);
    const spread = values.length > 0 ? (Math.max(...values) - Math.min(...values)) / values[0]! : NaN;
    const memoryHeld = values.length >= 2 && spread <= 0.1;
    const ok = memoryHeld && mixed.failures.length === 0 && deadLetters === 0 && verified(v);
    const figures = {
      ok,
      minutes,
      concurrency,
      rate,
      warmupMinutes: round(warmupMinutes, 2),
      rss: {
        held: memoryHeld,
        afterWarmupSamples: values.length,
        firstAfterWarmupMb: values[0],
        minAfterWarmupMb: Math.min(...values),
        maxAfterWarmupMb: Math.max(...values),
        spreadPercent: round(100 * spread, 1),
        series: samples,
      },
      acknowledgedWrites: v.acknowledged,
      uploads: v.uploads,
      edits: v.edits,
      lost: v.lost,
      duplicated: v.duplicated,
      unacknowledgedUploads: v.unacknowledgedUploads,
      readModelWrong: v.readModelWrong,
      duplicateChunks: v.duplicateChunks,
      chunksWrong: v.chunksWrong,
      failures: mixed.failures.length,
      uncertain: mixed.uncertain.length,
      uncertainUploads: mixed.uncertainUploads,
      deadLetters,
      searches: mixed.searches,
      searchesPerSecond: round(mixed.searches / mixed.seconds),
      searchP50Ms: round(percentile(mixed.searchLatencies, 50)),
      searchP99Ms: round(percentile(mixed.searchLatencies, 99)),
      writeP50Ms: round(percentile(mixed.writeLatencies, 50)),
      writeP99Ms: round(percentile(mixed.writeLatencies, 99)),
    };
    process.stdout.write(`RESULT ${JSON.stringify(figures)}\n`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stopService(child);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
