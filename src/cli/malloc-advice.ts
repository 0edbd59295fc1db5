/**
 * `bin/docsvc` (what npm installs and `npm start` runs) starts the process with MALLOC_ARENA_MAX=2: glibc's malloc
 * otherwise gives each allocating thread an arena of its own and keeps what is freed in it, and the service's
 * threads take turns with large buffers (RELIABILITY.md, "Memory"). glibc reads the setting only at process start,
 * so a service started another way (`node dist/src/main.js serve`, a container's own command) is told once.
 */
export function mallocAdvice(env: NodeJS.ProcessEnv, glibc: () => boolean = usesGlibc): string | undefined {
  // The variable first: when it is set (bin/docsvc), no diagnostic report is built.
  if (env.MALLOC_ARENA_MAX || !glibc()) return undefined;
  return (
    'MALLOC_ARENA_MAX is not set: glibc keeps a malloc arena per thread and memory after large uploads stays ' +
    'higher; start docsvc through bin/docsvc (npm start) or set MALLOC_ARENA_MAX=2 (docs/operations.md)'
  );
}

/** Node's own report names the glibc it runs on; musl (Alpine) and other systems have no such arenas. */
function usesGlibc(): boolean {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return Boolean(header?.glibcVersionRuntime);
}
