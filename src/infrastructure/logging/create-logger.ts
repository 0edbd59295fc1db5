import { ConsoleLogger } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';

/**
 * Nest writes errors to stderr and everything else to stdout. A CLI command's stdout is its result (JSON with
 * `--json`, for scripts), so there every log line goes to stderr.
 */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: Parameters<ConsoleLogger['printMessages']>[2],
    _stream?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack, params);
  }
}

export function createLogger(
  config: Pick<AppConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>,
  stream: 'stdout' | 'stderr' = 'stdout',
): ConsoleLogger {
  const levels = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const Logger = stream === 'stderr' ? StderrLogger : ConsoleLogger;
  return new Logger('docsvc', {
    json: config.LOG_FORMAT === 'json',
    logLevels: levels.slice(0, levels.indexOf(config.LOG_LEVEL) + 1),
    colors: config.LOG_FORMAT === 'text' && process[stream].isTTY === true,
  });
}
