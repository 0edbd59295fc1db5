/** The built service as a child process for the load and soak checks, and waiting for its projectors to catch up. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { note } from './report.js';

/**
 * `docsvc serve` from the build, started as users start it: through bin/docsvc (which sets MALLOC_ARENA_MAX=2
 * unless the environment has it), with this process's Node first on PATH.
 */
export function spawnServe(env: NodeJS.ProcessEnv, options: Omit<SpawnOptions, 'env'> = {}): ChildProcess {
  const PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return spawn(join(import.meta.dirname, '../../bin/docsvc'), ['serve'], {
    ...options,
    env: { ...env, PATH },
  });
}

/**
 * The built service (`bin/docsvc serve`) as a child on 127.0.0.1, any free port. Its log (LOG_LEVEL
 * `log`, the default: the port is logged at that level) goes to this process's stderr once the port is known,
 * without the line per request.
 */
export async function startBuiltService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; base: string }> {
  const child = spawnServe(
    { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'log', ...env },
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.on('data', (more: Buffer) => {
        const lines = more
          .toString()
          .split('\n')
          .filter((l) => l.trim() && !/ LOG \[http\] /.test(l));
        if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
      });
      resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`service exited ${code ?? signal}: ${out.slice(-2000)}`)),
    );
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

export function stopService(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

interface Projection {
  name: string;
  lag: number;
  status: string;
  deadLetters: unknown[];
}

/**
 * Waits until every live projection's lag is 0 and the search indexes are not waiting for a build (a deferred
 * vector index is built once the projector has caught up). Returns the dead letters seen.
 */
export async function caughtUp(base: string, adminKey: string, timeoutMs = 3_600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const res = await fetch(`${base}/admin/projections`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const list = (await res.json()) as Projection[];
    const ready = (await (await fetch(`${base}/health/ready`)).json()) as {
      checks?: { searchIndexes?: { vector?: { state?: string } } };
    };
    const vector = ready.checks?.searchIndexes?.vector?.state;
    const live = list.filter((p) => p.status !== 'retired');
    const state = `${live.map((p) => `${p.name} ${p.status} lag ${p.lag}`).join(', ')}; vector index ${vector}`;
    if (
      live.every((p) => p.lag === 0 && p.status === 'live') &&
      vector !== 'deferred' &&
      vector !== 'missing'
    )
      return list.reduce((n, p) => n + p.deadLetters.length, 0);
    if (state !== last) note(`waiting for the projectors: ${state}`);
    last = state;
    if (Date.now() > deadline) throw new Error(`projectors not caught up in ${timeoutMs} ms: ${state}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
