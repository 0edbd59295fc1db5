/**
 * The run's figures (printed as the `RESULT` line the runner reads; keep its fields and their order) and its verdict:
 * the run holds when every file was sent and no property failed. The maximum RSS is reported but not a failure (the
 * memory cap is separate work).
 */
import type { Innocent, Progress } from './driver.js';
import type { Monitor } from './monitor.js';
import type { Source } from './mutants.js';
import { count, HANG_MS, ocr, only, seed } from './options.js';
import type { Tally } from './tally.js';

export function report(
  sources: Source[],
  progress: Progress,
  tally: Tally,
  mon: Monitor,
  innocent: Innocent,
): { result: Record<string, unknown>; ok: boolean } {
  const { done, bytesSent, stoppedByTime, started } = progress;
  const { byStatus, byCode, byMutation, serverErrors, hangs, leaks, passwd, slowest, lost } = tally;
  const { crashes, crashLog } = mon;
  const { after, innocentOk, health } = innocent;
  const result = {
    files: done,
    complete: done === (only?.length ?? count),
    stoppedByTime,
    seed,
    sources: sources.length,
    mbSent: Math.round(bytesSent / 1024 / 1024),
    seconds: Math.round((Date.now() - started) / 1000),
    byStatus,
    byCode,
    byMutation,
    serverErrors: serverErrors.length,
    crashes,
    serviceLost: lost.length,
    busyRetries: tally.busyRetries,
    connectionRetries: tally.connectionRetries,
    hangs: hangs.length,
    hangLimitMs: HANG_MS,
    leaks: leaks.length,
    passwdInStoredText: passwd.length,
    maxRssMb: Math.round(mon.maxRss),
    maxRssDuring: mon.maxRssAt,
    innocentUpload: after.map((a) => `${a.status} ${a.code}`),
    innocentOk,
    healthAfter: health,
    ocr,
    slowest,
    details: {
      lost,
      serverErrors: serverErrors.slice(0, 20),
      hangs: hangs.slice(0, 20),
      leaks: leaks.slice(0, 20),
      passwd,
      crashLog,
    },
  };
  const ok =
    result.complete &&
    serverErrors.length === 0 &&
    lost.length === 0 &&
    crashes === 0 &&
    hangs.length === 0 &&
    leaks.length === 0 &&
    passwd.length === 0 &&
    innocentOk &&
    health === 200;
  return { result, ok };
}
