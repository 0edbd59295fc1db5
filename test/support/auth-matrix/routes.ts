/**
 * The authorisation matrix's routes (test/support/auth-matrix/checks.ts has the policy). The routes come from the
 * OpenAPI document the service serves, so a new route is in the matrix at once; what it needs is derived from its
 * method and path (below) unless it is listed.
 */
import type { Need } from './callers.js';

export interface ApiRoute {
  method: string;
  /** As in the OpenAPI document: `/documents/{id}`. */
  path: string;
  summary: string;
  need: Need;
}

/** The part of an OpenAPI document read here (the generated one, or /openapi.json parsed). */
interface OpenApiLike {
  paths?: object;
}
type Operation = { summary?: string; security?: unknown[] } | undefined;

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Reads sent as POST (a body of search parameters). */
const READS_BY_POST = new Set(['POST /search']);

/**
 * What a route needs, from the document: public when its operation clears `security`; admin for `/admin/*`,
 * `/metrics`, erase and restore, and whatever its summary marks "(admin)"; otherwise GET (and the reads sent as
 * POST) any key, and every other method an editor.
 */
export function needOf(method: string, path: string, op: { summary?: string; security?: unknown[] }): Need {
  const m = method.toUpperCase();
  if (Array.isArray(op.security) && op.security.length === 0) return 'public';
  if (
    /^\/admin(\/|$)/.test(path) ||
    path === '/metrics' ||
    /\/erase$/.test(path) ||
    /^\/coaches\/\{[^}]+\}\/restore$/.test(path) ||
    /\(admin\b/.test(op.summary ?? '')
  )
    return 'admin';
  if (m === 'GET' || READS_BY_POST.has(`${m} ${path}`)) return 'reader';
  return 'editor';
}

/** Every operation of the OpenAPI document. */
export function apiRoutes(document: OpenApiLike): ApiRoute[] {
  return Object.entries(
    (document.paths ?? {}) as Record<string, Record<string, Operation> | undefined>,
  ).flatMap(([path, item]) =>
    Object.entries(item ?? {})
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        summary: op?.summary ?? '',
        need: needOf(method, path, op ?? {}),
      })),
  );
}

/**
 * The methods each path does not have (a `405` to anyone, before the key is looked at, or a `401`), its
 * parameters filled with `id`; leaving out those another route takes (`PATCH /documents/from-url` is
 * `PATCH /documents/{id}`).
 */
export function missingMethods(routes: ApiRoute[], id: string): Array<{ method: string; path: string }> {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) (byPath.get(r.path) ?? byPath.set(r.path, new Set()).get(r.path)!).add(r.method);
  const pattern = (template: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return [...byPath].flatMap(([template, methods]) => {
    const path = template.replace(/\{[^}]+\}/g, id);
    return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
      .filter((m) => !methods.has(m))
      .filter((m) => !routes.some((r) => r.method === m && pattern(r.path).test(path)))
      .map((method) => ({ method, path }));
  });
}
