/**
 * The URL of a worker thread's module `name` beside the module at `here` (its import.meta.url). Built code runs
 * `name.js`. Under Jest or tsx the caller is TypeScript, and so is the worker: Node does not apply `--import tsx`
 * from a Worker's execArgv (tsx registers its hooks on the main thread only), so a small data: module registers
 * tsx's hooks inside the worker, then imports `name.ts` (as worker-extractor.ts does for extraction).
 */
export function workerUrl(here: string, name: string): URL {
  if (!here.endsWith('.ts')) return new URL(`./${name}.js`, here);
  const source = [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `await import(${JSON.stringify(new URL(`./${name}.ts`, here).href)});`,
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}
