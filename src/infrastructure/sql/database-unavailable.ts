/**
 * The PostgreSQL server of DATABASE_URL cannot be reached or refuses the connection. The message names the
 * variable and the server (without the password) and what went wrong, in words.
 */
export class DatabaseUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot connect to the database at DATABASE_URL (${redactUrl(url)}): ${reason(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** The URL without its password, nor its query (where libpq accepts `password=` too). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    const query = u.search ? '?…' : '';
    u.search = '';
    return u.toString() + query;
  } catch {
    return '(not a valid URL)';
  }
}

/** Node's socket error codes in words; the server's own refusals (SQLSTATE) say it well already. */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is PostgreSQL running on that host and port?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (the DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset by the server',
};

const HINTS: Record<string, string> = { '3D000': ' (create it first, e.g. with createdb)' };

function reason(error: unknown): string {
  // Node tries every address of a host name (IPv6 and IPv4) and reports all failures together.
  const first = error instanceof AggregateError && error.errors.length ? (error.errors[0] as unknown) : error;
  const code = (first as { code?: unknown })?.code ?? (error as { code?: unknown })?.code;
  if (typeof code === 'string' && SOCKET_ERRORS[code]) return SOCKET_ERRORS[code];
  const message = first instanceof Error && first.message ? first.message : String(first);
  return message + (typeof code === 'string' ? (HINTS[code] ?? '') : '');
}
