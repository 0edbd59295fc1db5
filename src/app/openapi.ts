import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { documentCommandRoutes } from '../commands/documents/document-routes.js';
import { importRoutes } from '../commands/import-csv/import-routes.js';
import { restoreRoutes } from '../commands/restore-coach/restore-routes.js';
import { healthRoutes } from '../infrastructure/health/health-routes.js';
import { metricsRoutes } from '../infrastructure/metrics/metrics-routes.js';
import { projectionRoutes } from '../infrastructure/projections/projection-routes.js';
import { performanceRoutes } from '../infrastructure/performance/performance-routes.js';
import { searchRoutes } from '../projections/chunks/search-routes.js';
import { maintenanceRoutes } from '../projections/maintenance/maintenance-routes.js';
import { historyRoutes } from '../projections/document-versions/history-routes.js';
import { changelogRoutes } from '../projections/documents/changelog-routes.js';
import { documentQueryRoutes } from '../projections/documents/document-routes.js';
import { problemCodes } from './problem-codes.js';

/**
 * The OpenAPI document, assembled from the routes each feature exports (written with the zod schemas that
 * validate its requests). Served at /openapi.json and browsable at /docs.
 */
const ROUTES: RouteConfig[] = [
  ...searchRoutes,
  ...documentCommandRoutes,
  ...importRoutes,
  ...documentQueryRoutes,
  ...historyRoutes,
  ...changelogRoutes,
  ...restoreRoutes,
  ...projectionRoutes,
  ...maintenanceRoutes,
  ...performanceRoutes,
  ...healthRoutes,
  ...metricsRoutes,
];

type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;
let generated: OpenApiDocument | undefined;

/** Generated once per process: the route guard, /docs and /openapi.json all read the same document. */
export function openApiDocument(): OpenApiDocument {
  return (generated ??= generate());
}

function generate(): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (API.md, Auth)',
  });
  for (const route of ROUTES) registry.registerPath(route);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'docsvc',
      version: '0.1.0',
      description: 'Event-sourced document service for retrieval-augmented generation',
    },
    security: [{ apiKey: [] }],
  });
  listProblemCodes(document);
  return document;
}

/** The Problem's `code`: every code the service answers with, and the statuses it comes with. */
function listProblemCodes(document: OpenApiDocument): void {
  const codes = [...problemCodes()].sort(([a], [b]) => a.localeCompare(b));
  const schema = document.components?.schemas?.Problem as { properties: Record<string, object> } | undefined;
  if (!schema) return;
  schema.properties.code = {
    type: 'string',
    enum: codes.map(([code]) => code),
    description:
      'A stable machine code: ' +
      codes.map(([code, statuses]) => `${code} (${[...statuses].join(', ')})`).join(', '),
  };
}
