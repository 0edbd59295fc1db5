/**
 * A small text file through the extractor the service uses, in the calling thread (the default for plain text
 * and Markdown up to IN_PROCESS_TEXT_BYTES) and in a worker thread (what every file cost before, and what HTML
 * still costs), interleaved round by round. Run on the built code, as the service runs:
 *   npm run build && node --import tsx bench/small-text.ts [rounds]
 */
// The built module (a path, not a static import: the sources typecheck without a build), typed as the source.
const built = new URL('../dist/src/infrastructure/extraction/worker-extractor.js', import.meta.url).href;
const { WorkerTextExtractor } = (await import(
  built
)) as typeof import('../src/infrastructure/extraction/worker-extractor.js');

const rounds = Number(process.argv[2] ?? 10);
const perRound = 20;
const extractor = new WorkerTextExtractor();
const note = Buffer.from('A coaching note about magnesium and zinc before sleep. '.repeat(20));
// The same words as an HTML page: always a worker.
const page = Buffer.from(`<html><body><p>${note.toString()}</p></body></html>`);

async function msPerFile(bytes: Buffer): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < perRound; i++) await extractor.extract(bytes);
  return (performance.now() - started) / perRound;
}

const inThread: number[] = [];
const inWorker: number[] = [];
for (let r = 0; r < rounds; r++) {
  inThread.push(await msPerFile(note));
  inWorker.push(await msPerFile(page));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `small text, ms a file (median of ${rounds} rounds of ${perRound}): in the calling thread ${median(inThread).toFixed(1)}, ` +
    `in a worker (HTML) ${median(inWorker).toFixed(1)}`,
);
