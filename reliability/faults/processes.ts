/**
 * The docsvc CLI and service as child processes of the fault checks (reliability/faults.ts,
 * test/e2e/faults.test.ts): built, or from the sources through tsx; the environment each child gets; a wait on a
 * condition of the system.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: this file is reliability/faults/processes.ts. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How to run `docsvc`: the build (`node dist/src/main.js`) or the sources through tsx (tests: no build needed). */
export type CliRunner = string[];
export const builtCli: CliRunner = [process.execPath, join(ROOT, 'dist/src/main.js')];
export const sourceCli: CliRunner = [process.execPath, '--import', 'tsx', join(ROOT, 'src/main.ts')];

export const ADMIN_KEY = `faults-admin-${randomBytes(8).toString('hex')}`;

/** Environment every child gets: no key file written into the repository, quiet logs, a private DATA_DIR. */
export function baseEnv(dataDir: string): Record<string, string> {
  return {
    ADMIN_API_KEY: ADMIN_KEY,
    DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'log',
    RATE_LIMIT_PER_MINUTE: '1000000',
    MAINTENANCE_ENABLED: 'false',
    URL_REFRESH_ENABLED: 'false',
  };
}

export interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null after a signal) once the pipes are drained. */
  closed: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnCli(cli: CliRunner, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cli[0]!, [...cli.slice(1), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = {
    child,
    stdout: '',
    stderr: '',
    closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return proc.closed;
    },
  };
  child.stdout!.on('data', (c: Buffer) => (proc.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (proc.stderr += c.toString()));
  return proc;
}

export async function runCli(
  cli: CliRunner,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(cli, args, env);
  const code = await p.closed;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

export interface Service extends Proc {
  base: string;
  port: number;
}

/** `docsvc serve` on PORT=0; resolves once it logs its port (rejects with its output if it exits first). */
export async function startServe(
  cli: CliRunner,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<Service> {
  const p = spawnCli(cli, ['serve'], { PORT: '0', HOST: '127.0.0.1', ...env });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not listen in time: ${p.stdout.slice(-2000)}`)),
      timeoutMs,
    );
    const look = () => {
      const m = /listening on port (\d+)/.exec(p.stdout);
      if (m) {
        clearTimeout(timer);
        p.child.stdout!.off('data', look);
        resolve(Number(m[1]));
      }
    };
    p.child.stdout!.on('data', look);
    p.closed.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `serve exited (${code}) before listening: ${p.stdout.slice(-2000)} ${p.stderr.slice(-2000)}`,
        ),
      );
    });
  });
  // Output is kept only as a tail: a long run logs a lot.
  p.child.stdout!.on('data', () => (p.stdout = p.stdout.slice(-200_000)));
  return Object.assign(p, { port, base: `http://127.0.0.1:${port}` });
}

/** Polls a condition of the system (database rows, a process's output), never a clock standing in for it. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
