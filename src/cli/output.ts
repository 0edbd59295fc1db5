import type { CliFailure } from './cli-errors.js';

/**
 * A command's stdout is its result and nothing else: with --json one JSON document that `JSON.parse` reads
 * whole. While a command runs, anything else written to stdout (a library's log line, a stray console.log)
 * goes to stderr, where the logs are.
 */
export class CliOutput {
  private readonly stdoutWrite = process.stdout.write;
  private reserved = false;
  /** Set by a command whose result is printed but which did not wholly succeed (an import with failed files). */
  exitCode: number | undefined;

  constructor(readonly json: boolean) {}

  /** From here on only `result` and `failure` reach stdout. */
  reserveStdout(): void {
    if (this.reserved) return;
    this.reserved = true;
    process.stdout.write = ((...args: Parameters<typeof process.stderr.write>) =>
      process.stderr.write(...args)) as typeof process.stdout.write;
  }

  restore(): void {
    if (this.reserved) process.stdout.write = this.stdoutWrite;
    this.reserved = false;
  }

  result(human: string, data: unknown, exitCode?: number): void {
    this.stdout(this.json ? JSON.stringify(data) : human);
    this.exitCode = exitCode;
  }

  /** The one line on stderr; with --json also `{"error": …}` on stdout, so a script reads every outcome alike. */
  failure(failure: CliFailure, options: { quiet?: boolean } = {}): void {
    if (!options.quiet) process.stderr.write(`docsvc: ${failure.message}\n`);
    if (this.json) {
      const { code, message, exitCode } = failure;
      this.stdout(JSON.stringify({ error: { code, message, exitCode } }));
    }
  }

  private stdout(text: string): void {
    this.stdoutWrite.call(process.stdout, `${text}\n`);
  }
}
