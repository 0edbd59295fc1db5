/**
 * The upload driver: `--concurrency` workers take the mutants in turn (or those of `--only`), each uploaded to the
 * watched service and its answer tallied, until all are sent or `--max-minutes` is up; then the innocent uploads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Monitor } from './monitor.js';
import { mutant, type Mutant, type Source } from './mutants.js';
import { concurrency, count, maxMinutes, only, outDir, seed } from './options.js';
import { answersHealth, upload, type Answer } from './service.js';
import type { Tally } from './tally.js';

export interface Progress {
  done: number;
  bytesSent: number;
  /** A worker found `--max-minutes` up, and uploads stopped being started. */
  stoppedByTime: boolean;
  /** When the uploads started (Date.now()). */
  started: number;
}

/** The innocent uploads after the run, and the service's health then. */
export interface Innocent {
  after: Answer[];
  innocentOk: boolean;
  health: number;
}

/** The most times one file is sent again after `503 SERVER_BUSY`, and the wait its `Retry-After` asks for. */
const BUSY_RETRIES = 30;
const BUSY_WAIT_MS = 5_000;
/**
 * Connection errors before any answer that a client resends on (with the same Idempotency-Key): this process
 * builds each mutant on its event loop (a bomb takes seconds), and a pooled connection whose keep-alive deadline
 * passed meanwhile is closed by the service just as it is reused.
 */
const RESENT_ON = new Set(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET']);
const CONNECTION_RETRIES = 2;

/**
 * Sends `m`, and again after each `503 SERVER_BUSY` (the service's ingest admission: its queue was full or waited
 * out), as a well-behaved client does; when the service no longer answers at all, counts it as lost, replaces
 * the service and sends it again.
 */
async function send(mon: Monitor, tally: Tally, m: Mutant): Promise<Answer> {
  const key = `corpus-${seed}-${m.name}`;
  let a = await upload(mon.svc.base, m.name, m.bytes, key);
  for (let i = 0; a.status === 0 && RESENT_ON.has(a.code) && i < CONNECTION_RETRIES; i++) {
    tally.connectionRetries++;
    a = await upload(mon.svc.base, m.name, m.bytes, key);
  }
  for (let i = 0; a.status === 503 && a.code === 'SERVER_BUSY' && i < BUSY_RETRIES; i++) {
    tally.busyRetries++;
    await delay(BUSY_WAIT_MS);
    a = await upload(mon.svc.base, m.name, m.bytes, key);
  }
  if (a.status === 0 && !(await answersHealth(mon.svc.base))) {
    // The service no longer answers at all (it exited, or stopped listening while alive): counted, replaced by
    // a fresh one on the same data, and the file sent again.
    tally.lost.push({
      name: m.name,
      error: a.code,
      alive: mon.svc.child.exitCode === null && mon.svc.child.signalCode === null,
    });
    console.error(`!! the service stopped answering during ${m.name} (${a.code}); restarting it`);
    await mon.replaceUnanswering();
    a = await upload(mon.svc.base, m.name, m.bytes, key);
  }
  return a;
}

export async function uploadAll(sources: Source[], mon: Monitor, tally: Tally): Promise<Progress> {
  const deadline = Date.now() + maxMinutes * 60_000;
  let stoppedByTime = false;
  let next = 0;
  let done = 0;
  let bytesSent = 0;
  const started = Date.now();

  const worker = async () => {
    for (;;) {
      if (Date.now() > deadline) return void (stoppedByTime = true);
      const n = next++;
      if (n >= (only?.length ?? count)) return;
      const i = only ? only[n]! : n;
      const m = await mutant(sources, i, seed);
      bytesSent += m.bytes.length;
      if (outDir) writeFileSync(join(outDir, m.name), m.bytes);
      mon.current.push(m.name);
      await mon.restartIfExited();
      const a = await send(mon, tally, m);
      mon.current = mon.current.filter((n) => n !== m.name);
      await tally.record(m, a, mon.svc);
      done++;
      if (done % 25 === 0 || done === count || only)
        console.error(
          `${done}/${count} in ${Math.round((Date.now() - started) / 1000)} s; ${JSON.stringify(tally.byCode)}; max RSS ${mon.maxRss.toFixed(0)} MB; 5xx ${tally.serverErrors.length}, hangs ${tally.hangs.length}, crashes ${mon.crashes}`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, bytesSent, stoppedByTime, started };
}

/** An innocent upload afterwards: a real DOCX, unchanged, and a plain text; then the service's health. */
export async function uploadInnocent(sources: Source[], mon: Monitor): Promise<Innocent> {
  await mon.ensureRunning();
  const innocentDocx =
    sources.find((s) => s.file.endsWith('tables.docx')) ?? sources.find((s) => s.kind === 'docx')!;
  const after = [
    await upload(mon.svc.base, 'innocent.docx', innocentDocx.bytes),
    await upload(mon.svc.base, 'innocent.txt', Buffer.from(`Protein keeps you full, innocent run ${seed}.`)),
  ];
  const innocentOk = after.every((a) => a.status === 201 || a.status === 200);
  const health = await fetch(`${mon.svc.base}/health`)
    .then((r) => r.status)
    .catch(() => 0);
  return { after, innocentOk, health };
}
