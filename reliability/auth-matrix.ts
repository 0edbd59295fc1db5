/**
 * `tsx reliability/auth-matrix.ts [--requests 10000 | --rounds N] [--targets pglite,postgres]`: the long authorisation matrix of
 * issue 17 (the short one is test/e2e/auth-matrix.test.ts; both use test/support/auth-matrix/).
 *
 * Every route of the OpenAPI document × every caller (no key, a wrong key, free and premium readers, the other
 * coach's reader and editor, the editor, the admin) × every target — the seeded free, premium and other-coach
 * documents, a random id, a malformed one; the coach named: its own, another, an unknown one — and, round by round,
 * another query or body variant (versions that exist or not, `asOf`, `from`/`to`, `status`, `limit`, `after`,
 * search modes and filters), plus every method each path does not have. Against the service in process, on PGlite
 * and on PostgreSQL (`TEST_DATABASE_URL`, a fresh database dropped afterwards).
 *
 * Properties (exit 1 when one fails): every answer as the access policy says (401, 403, 404, allowed), no 5xx,
 * no SQL or stack text, and no answer holding a marker word of a document its caller may not see (leaks).
 */
import { CALLERS } from '../test/support/auth-matrix/callers.js';
import { violations } from '../test/support/auth-matrix/checks.js';
import { requestFor, variantsOf } from '../test/support/auth-matrix/requests.js';
import { apiRoutes, missingMethods } from '../test/support/auth-matrix/routes.js';
import { seed } from '../test/support/auth-matrix/seed.js';
import { MATRIX_ENV, send } from '../test/support/auth-matrix/send.js';
import { openApiDocument } from '../src/app/openapi.js';
import { targets as databaseTargets, type TargetKind } from '../test/support/databases.js';
import { startService } from '../test/support/service.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const kinds = arg('targets', databaseTargets().join(',')).split(',') as TargetKind[];
/** Rounds on each target: as many as `--rounds` says, else until the targets together made `--requests`. */
const fixedRounds = process.argv.includes('--rounds') ? Number(arg('rounds', '1')) : undefined;
const perTarget = Math.ceil(Number(arg('requests', '10000')) / kinds.length);
const moreRounds = (round: number, requests: number) =>
  fixedRounds !== undefined ? round < fixedRounds : requests < perTarget;

interface Figures {
  rounds: number;
  requests: number;
  byStatus: Record<string, number>;
  violations: number;
  leaks: number;
  serverErrors: number;
  seconds: number;
  examples: string[];
}

async function runOn(kind: TargetKind): Promise<Figures> {
  const started = Date.now();
  const svc = await startService(kind, MATRIX_ENV);
  const figures: Figures = {
    rounds: 0,
    requests: 0,
    byStatus: {},
    violations: 0,
    leaks: 0,
    serverErrors: 0,
    seconds: 0,
    examples: [],
  };
  try {
    const fixture = await seed(svc);
    const served = await svc.request('GET', '/openapi.json', { as: 'none' });
    const routes = apiRoutes(served.body);
    if (routes.length === 0) throw new Error('GET /openapi.json lists no route');
    const inProcess = apiRoutes(openApiDocument()).length;
    if (routes.length !== inProcess)
      throw new Error(`/openapi.json lists ${routes.length} routes, the code ${inProcess}`);
    const record = (status: number, problems: string[]) => {
      figures.requests++;
      figures.byStatus[status] = (figures.byStatus[status] ?? 0) + 1;
      if (status >= 500) figures.serverErrors++;
      figures.violations += problems.length;
      figures.leaks += problems.filter((p) => /leaks marker/.test(p)).length;
      for (const p of problems) if (figures.examples.length < 30) figures.examples.push(`${kind}: ${p}`);
    };
    for (let round = 0; moreRounds(round, figures.requests); round++) {
      figures.rounds = round + 1;
      for (const route of routes) {
        for (const variant of variantsOf(route, [round], { malformed: true, unknownCoach: true })) {
          await Promise.all(
            CALLERS.map(async (who) => {
              const request = requestFor(route, variant, fixture);
              const outcome = await send(svc.base, who, request, 150).catch((e: Error) => ({
                status: 0,
                text: `no answer: ${e.message}`,
              }));
              const problems = violations(route, who, request, outcome, fixture);
              if (outcome.status === 0) problems.push(`${who} ${request.method} ${request.path}: no answer`);
              record(outcome.status, problems);
            }),
          );
        }
      }
      // The methods each path does not have: 405 (or 401), never 2xx or 5xx; with a seeded or random id.
      const id = round % 2 === 0 ? fixture.docs.carnivorePremium.id : crypto.randomUUID();
      for (const { method, path } of missingMethods(routes, id)) {
        await Promise.all(
          CALLERS.map(async (who) => {
            const o = await send(svc.base, who, { method, path, odd: true }, 150);
            record(
              o.status,
              o.status === 405 || o.status === 401 ? [] : [`${who} ${method} ${path}: ${o.status}`],
            );
          }),
        );
      }
      console.error(
        `${kind}: round ${round + 1}, ${figures.requests} requests, ${figures.violations} violations, ${figures.leaks} leaks, ${figures.serverErrors} 5xx`,
      );
    }
  } finally {
    await svc.close();
    figures.seconds = Math.round((Date.now() - started) / 1000);
  }
  return figures;
}

const byTarget: Record<string, Figures> = {};
for (const kind of kinds) byTarget[kind] = await runOn(kind);
const all = Object.values(byTarget);
const sum = (f: (x: Figures) => number) => all.reduce((n, x) => n + f(x), 0);
const result = {
  targets: kinds,
  requests: sum((x) => x.requests),
  violations: sum((x) => x.violations),
  leaks: sum((x) => x.leaks),
  serverErrors: sum((x) => x.serverErrors),
  byTarget,
};
console.log(`RESULT ${JSON.stringify(result)}`);
process.exitCode = result.violations === 0 && result.leaks === 0 && result.serverErrors === 0 ? 0 : 1;
