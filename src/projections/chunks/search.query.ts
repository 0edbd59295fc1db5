import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../domain/errors.js';
import { assertCoach, type Principal } from '../../domain/access.js';
import { APP_CONFIG, type AppConfig } from '../../infrastructure/config/config.js';
import { InvalidPositionError } from '../../infrastructure/event-store/errors.js';
import { EVENT_STORE, type EventStore } from '../../infrastructure/event-store/event-store.js';
import { comparePositions, parsePosition } from '../../infrastructure/event-store/position.js';
import { checkpoints } from '../../infrastructure/projections/checkpoints.js';
import { ProjectionEngine } from '../../infrastructure/projections/projection-engine.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import type { AsyncProjection } from '../../infrastructure/projections/projection.js';
import { Metrics, type SearchTiming } from '../../infrastructure/metrics/metrics.js';
import { cachedResults, storeResults } from './query-cache.js';
import { ChunkSearch, queryCacheKey, type SearchResult } from './search.js';
import type { SearchRequest } from './search.schema.js';

/** The chunks versions this process can search: its own first, then the live one it replaces (if any). */
export const CHUNK_SEARCHES = Symbol('CHUNK_SEARCHES');

export interface ServedVersion {
  projection: AsyncProjection & { space: string; chunker: string };
  search: ChunkSearch;
}

/**
 * The version that answers: the live one if this process can search it (its own, or the companion it is
 * replacing), else its own (a first build, before anything is live).
 */
export async function servedVersion(sql: SqlClient, versions: ServedVersion[]): Promise<ServedVersion> {
  if (versions.length === 1) return versions[0]!; // no companion: nothing to choose
  const live = await checkpoints.live(sql, 'chunks');
  return versions.find((v) => v.projection.version === live?.version) ?? versions[0]!;
}

export interface SearchAnswer {
  results: SearchResult[];
  position: string | null;
}

export class ReadModelBehindError extends AppError {
  readonly code = 'READ_MODEL_BEHIND';
  readonly status = 503;
}

export class SearchQuery extends Query<SearchAnswer> {
  constructor(
    readonly principal: Principal,
    readonly request: SearchRequest,
  ) {
    super();
  }
}

/**
 * POST /search: coach scope and tier from the key, a bounded wait for `minPosition`, then the query cache
 * (keyed by the normalised request, the reader's tier and the read model's position) or the search itself.
 */
@QueryHandler(SearchQuery)
export class SearchHandler implements IQueryHandler<SearchQuery, SearchAnswer> {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHUNK_SEARCHES) private readonly versions: ServedVersion[],
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  async execute({ principal, request }: SearchQuery): Promise<SearchAnswer> {
    assertCoach(principal, request.coachId);
    const freeOnly = principal.role === 'reader' && principal.tier === 'free';
    const served = await servedVersion(this.sql, this.versions);
    if (request.minPosition) await this.waitFor(request.minPosition, served.projection);
    // Timed after the wait: that is the projector's delay, which the projection lag metrics show.
    const started = performance.now();
    const { answer, cache } = await this.answer(request, freeOnly, served);
    const seconds = (performance.now() - started) / 1000;
    this.metrics.searched({ mode: request.mode, cache, seconds });
    return answer;
  }

  private async answer(
    request: SearchRequest,
    freeOnly: boolean,
    { projection, search }: ServedVersion,
  ): Promise<{ answer: SearchAnswer; cache: SearchTiming['cache'] }> {
    const position = (await checkpoints.read(this.sql, projection))?.position ?? null;
    const ttl = this.config.QUERY_CACHE_TTL_SECONDS;
    if (ttl === 0)
      return { answer: { results: await search.search(request, freeOnly), position }, cache: 'off' };
    const key = queryCacheKey(request, freeOnly, search.scope, position);
    const cached = await cachedResults(this.sql, key);
    if (cached) return { answer: { results: cached, position }, cache: 'hit' };
    const results = await search.search(request, freeOnly);
    const coachId = request.coachId;
    await storeResults(this.sql, projection, { key, coachId, position, results, ttlSeconds: ttl });
    return { answer: { results, position }, cache: 'miss' };
  }

  /**
   * A position beyond the newest committed event was never handed out (a write answers only once committed):
   * waiting for it could never end well, so it is refused at once rather than after the timeout as a 503.
   */
  private async waitFor(minPosition: string, projection: AsyncProjection): Promise<void> {
    const newest = await this.store.head({ settled: false });
    if (!newest || comparePositions(parsePosition(minPosition), parsePosition(newest)) > 0)
      throw new InvalidPositionError(minPosition, 'it is beyond every event written so far');
    const timeoutMs = this.config.SEARCH_WAIT_TIMEOUT_MS;
    if (!(await this.engine.waitUntilCaughtUp({ position: minPosition, timeoutMs, only: projection }))) {
      throw new ReadModelBehindError(
        `the search index has not reached position ${minPosition} within ${timeoutMs} ms; retry shortly`,
      );
    }
  }
}
