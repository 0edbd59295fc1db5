import { ConsoleLogger } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { currentRequestId } from './request-context.js';

type JsonOptions = Parameters<ConsoleLogger['getJsonLogObject']>[1];

/** JSON lines written while a request is handled carry its id (request-observer.ts sets the context). */
class RequestAwareLogger extends ConsoleLogger {
  protected override getJsonLogObject(message: unknown, options: JsonOptions) {
    const line = super.getJsonLogObject(message, options);
    const requestId = currentRequestId();
    return requestId && !('requestId' in line) ? { ...line, requestId } : line;
  }
}

/**
 * Nest writes errors to stderr and everything else to stdout. A CLI command's stdout is its result (JSON with
 * `--json`, for scripts), so there every log line goes to stderr.
 */
class StderrLogger extends RequestAwareLogger {
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
  const Logger = stream === 'stderr' ? StderrLogger : RequestAwareLogger;
  return new Logger('docsvc', {
    json: config.LOG_FORMAT === 'json',
    // A line's fields (an access line's method, route, status…) at the top of its JSON object, beside `message`.
    flattenParams: true,
    logLevels: levels.slice(0, levels.indexOf(config.LOG_LEVEL) + 1),
    colors: config.LOG_FORMAT === 'text' && process[stream].isTTY === true,
  });
}
