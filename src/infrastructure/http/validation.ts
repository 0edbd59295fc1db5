import { z } from 'zod';
import { AppError } from '../../domain/errors.js';

export class ValidationFailedError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}

/**
 * Parses a request part with its schema; a failure lists every problem with its path (problem+json `errors`).
 * What it returns holds no text PostgreSQL cannot store (checked on the parsed value, so that JSON inside a form
 * field is checked too): a NUL or an unpaired UTF-16 surrogate anywhere is refused here, never a 500 later.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value, { error: readable });
  if (result.success) {
    const bad = unstorableTextAt(result.data);
    if (!bad) return result.data;
    const path = [where, ...bad].join('.');
    const message = 'must not contain NUL characters or unpaired UTF-16 surrogates';
    throw new ValidationFailedError(`invalid ${where}: ${path}: ${message}`, { errors: [{ path, message }] });
  }
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

/** The path of the first string (or object key) with a NUL or an unpaired surrogate, or undefined. */
export function unstorableTextAt(value: unknown, depth = 0): string[] | undefined {
  if (typeof value === 'string') return storable(value) ? undefined : [];
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value) || depth > 64) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (!storable(key)) return [key.toWellFormed().replace(/\0/g, '\\0')];
    const below = unstorableTextAt(item, depth + 1);
    if (below) return [key, ...below];
  }
  return undefined;
}

const storable = (s: string) => s.isWellFormed() && !s.includes('\0');
