import cliProgress from 'cli-progress';

/** What a long import shows while it runs: a bar on a terminal, the failures as they happen. */
export interface Progress {
  start(total: number): void;
  tick(): void;
  /** One line (a failed file), above the bar on a terminal. */
  log(line: string): void;
  stop(): void;
}

/**
 * On a terminal (stderr): a bar with count, rate and ETA (cli-progress), failures printed above it. Elsewhere (a
 * log, a pipe): the failure lines only; the summary says the rest.
 */
export function progressOnStderr(): Progress {
  if (!process.stderr.isTTY)
    return { start() {}, tick() {}, log: (line) => process.stderr.write(`${line}\n`), stop() {} };
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {bar} {value}/{total} files | {rate} files/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let started = 0;
  let done = 0;
  const rate = () => (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1);
  return {
    start(total) {
      started = Date.now();
      bar = bars.create(total, 0, { rate: '0.0' });
    },
    tick() {
      done++;
      bar?.increment(1, { rate: rate() });
    },
    log: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}

/** No output at all (tests, --json on a pipe). */
export const silentProgress: Progress = { start() {}, tick() {}, log() {}, stop() {} };
