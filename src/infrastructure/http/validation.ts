import { z } from 'zod';
import { AppError } from '../../domain/errors.js';

export class ValidationFailedError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}

/** Parses a request part with its schema; a failure lists every problem with its path (problem+json `errors`). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value, { error: readable });
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  // One message shared by several fields (`from` and `to`) is said once, after their paths.
  const paths = new Map<string, string[]>();
  for (const e of errors) paths.set(e.message, [...(paths.get(e.message) ?? []), e.path]);
  const detail = [...paths].map(([message, at]) => `${at.join(', ')}: ${message}`).join('; ');
  throw new ValidationFailedError(`invalid ${where}: ${detail}`, { errors });
}

/**
 * Zod's defaults speak of types ("expected number, received NaN", which is what a query parameter that is not a
 * number, or is missing, becomes after coercion); these say what the person has to send. A schema's own
 * message wins over these.
 */
function readable(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  const { expected, input } = issue;
  if (input === undefined || input === null) return `is required (${article(expected)})`;
  if (expected === 'number' && typeof input === 'number' && Number.isNaN(input)) return 'must be a number';
  return `must be ${article(expected)}, not ${article(describe(input))}`;
}

function describe(input: unknown): string {
  if (Array.isArray(input)) return 'array';
  if (typeof input === 'number' && Number.isNaN(input)) return 'NaN';
  return typeof input;
}

function article(type: string): string {
  if (type === 'NaN') return 'NaN';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
