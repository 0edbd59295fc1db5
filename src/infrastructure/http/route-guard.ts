import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { MethodNotAllowedError, UnsupportedMediaTypeError } from './http-errors.js';
import { sendProblem } from './problem.filter.js';

/** The `paths` of the OpenAPI document: each route's request body media types. */
export type ApiPaths = Record<string, object | undefined>;

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): unknown;
}

const JSON_ONLY = ['application/json'];

/**
 * Before the body is read: a known path asked with a method it does not have is 405 with `Allow` (an unknown
 * path stays 404), and a body of a type the route does not take is 415 (not a confusing 400 about a missing
 * field). The routes come from the router itself; the media types each takes from the OpenAPI document (JSON
 * where it says nothing).
 */
export function routeGuard(express: Express, paths: ApiPaths): RequestHandler {
  const mediaTypes = mediaTypesByRoute(paths);
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next();
    const routes = matchingRoutes(express, req.path);
    if (routes.length === 0) return next();
    const allowed = allowedMethods(routes);
    if (!allowed.includes(req.method)) {
      res.setHeader('Allow', allowed.join(', '));
      const e = new MethodNotAllowedError(
        `${req.method} ${req.path} is not allowed; use ${allowed.join(', ')}`,
      );
      return sendProblem(res, e);
    }
    const refused = unsupportedBody(req, routes, mediaTypes);
    if (refused) return sendProblem(res, refused);
    next();
  };
}

/** A body (HEAD and GET have none) of a type the route does not take. */
function unsupportedBody(
  req: Request,
  routes: Array<NonNullable<RouteLayer['route']>>,
  mediaTypes: Map<string, string[]>,
): UnsupportedMediaTypeError | undefined {
  const route = routes.find((r) => r.methods[req.method.toLowerCase()]);
  if (!route || !hasBody(req)) return undefined;
  const types = mediaTypes.get(`${req.method} ${route.path}`) ?? JSON_ONLY;
  if (req.is(types)) return undefined;
  const sent = req.headers['content-type']
    ? `a ${req.headers['content-type']} body`
    : 'a body without a Content-Type';
  return new UnsupportedMediaTypeError(
    `${req.method} ${route.path} takes ${types.join(' or ')}, not ${sent}`,
  );
}

/** A POST without a body still says `Content-Length: 0` (fetch does): that is no body of any type. */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** The pattern of the first route whose path matches (`/documents/:id`), whatever its methods. */
export function routePattern(express: Express, path: string): string | undefined {
  return matchingRoutes(express, path)[0]?.path;
}

function matchingRoutes(express: Express, path: string): Array<NonNullable<RouteLayer['route']>> {
  const stack = (express as unknown as { router: { stack: RouteLayer[] } }).router.stack;
  return stack.flatMap((layer) => (layer.route && matches(layer, path) ? [layer.route] : []));
}

/**
 * A layer's match decodes the path's parameters, and throws on a malformed one (`%ZZ`, an encoded unpaired
 * surrogate): its pattern matched. Thrown from the request observer's `finish` listener, that ended the process.
 */
function matches(layer: RouteLayer, path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    return true;
  }
}

function allowedMethods(routes: Array<NonNullable<RouteLayer['route']>>): string[] {
  const methods = new Set(routes.flatMap((r) => Object.keys(r.methods).map((m) => m.toUpperCase())));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].filter((m) => m !== '_ALL');
}

/** "POST /documents/:id/rollback" -> the request body's media types in the OpenAPI document. */
function mediaTypesByRoute(paths: ApiPaths): Map<string, string[]> {
  const byRoute = new Map<string, string[]>();
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item ?? {})) {
      const content = (operation as { requestBody?: { content?: object } }).requestBody?.content;
      if (content)
        byRoute.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, Object.keys(content));
    }
  }
  return byRoute;
}
