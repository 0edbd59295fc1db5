import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ChildLine {
  kind: string;
  [key: string]: unknown;
}

/** A TypeScript script of test/support run in its own Node process (through tsx), speaking JSON lines. */
export class Child {
  readonly lines: ChildLine[] = [];
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];
  stderr = '';
  /** Everything the child wrote to stdout, as written. */
  stdout = '';

  constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    createInterface({ input: process.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as ChildLine);
      } catch {
        this.lines.push({ kind: 'text', text });
      }
      this.waiters.forEach((w) => w());
    });
    process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      process.on('exit', (code) => {
        resolve(code);
        this.waiters.forEach((w) => w());
      }),
    );
  }

  static start(script: string, env: Record<string, string>): Child {
    const child = spawn(process.execPath, ['--import', 'tsx', join('test/support', script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Child(child);
  }

  /** `docsvc <args>` from the sources (through tsx), as a user would run it. */
  static cli(args: string[], env: Record<string, string>): Child {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Child(child);
  }

  /** Runs `docsvc <args>` to its end. */
  static async runCli(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = Child.cli(args, env);
    // 'exit' can come before the last output is read; 'close' is when the pipes are drained.
    const code = await new Promise<number | null>((resolve) => child.process.on('close', resolve));
    return { code, stdout: child.stdout, stderr: child.stderr };
  }

  /** Resolves with the first line (from the start) matching `predicate`; rejects on timeout or exit. */
  waitFor(predicate: (line: ChildLine) => boolean, timeoutMs = 60_000): Promise<ChildLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(predicate);
        if (found) return finish(() => resolve(found));
        if (this.process.exitCode !== null || this.process.signalCode !== null) {
          finish(() =>
            reject(
              new Error(
                `child exited (${this.process.exitCode ?? this.process.signalCode}) first; stderr: ${this.stderr}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `timed out; last lines: ${JSON.stringify(this.lines.slice(-3))}; stderr: ${this.stderr}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        then();
      };
      this.waiters.push(check);
      check();
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    await this.exited;
  }
}
