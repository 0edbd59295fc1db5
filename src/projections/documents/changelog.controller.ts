import { Controller, Get, Headers, Inject, Query as Q, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CurrentPrincipal } from '../../infrastructure/auth/auth.guard.js';
import type { Principal } from '../../domain/access.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import { READ_MODEL_HORIZON, type SettledCondition } from '../../infrastructure/event-store/horizon.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import {
  changelogParamsSchema,
  GetChangelogQuery,
  readChangelog,
  type ChangelogPage,
} from './changelog.query.js';

/** How often the live feed looks for new entries, and how often it proves it is alive when there are none. */
export const STREAM_POLL_MS = 500;
export const STREAM_HEARTBEAT_MS = 15_000;

/** The changelog: a page at a time, or as a live feed of server-sent events. */
@Controller('changelog')
export class ChangelogController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(READ_MODEL_HORIZON) private readonly settled: SettledCondition,
  ) {}

  @Get()
  page(@CurrentPrincipal() p: Principal, @Q() query: Record<string, unknown>): Promise<ChangelogPage> {
    return this.queries.execute(new GetChangelogQuery(p, parseWith(changelogParamsSchema, query, 'query')));
  }

  /**
   * GET /changelog/stream: the same entries (same filters) as server-sent events, each with its position as `id`,
   * so that a client that reconnects with `Last-Event-ID` (or `after`) resumes exactly after the last one it got.
   */
  @Get('stream')
  async stream(
    @CurrentPrincipal() p: Principal,
    @Q() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const params = parseWith(
      changelogParamsSchema,
      { ...query, ...(lastEventId ? { after: lastEventId } : {}) },
      lastEventId ? 'header.last-event-id' : 'query',
    );
    // Refusals (a coach outside the key) are answered before the stream starts, as problem+json.
    let page = await readChangelog(this.sql, this.settled, p, params);
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let closed = false;
    req.on('close', () => (closed = true));
    let after = params.after;
    let quietSince = Date.now();
    res.write(`retry: 2000\n\n`);
    while (!closed) {
      for (const entry of page.entries)
        res.write(`id: ${entry.position}\nevent: change\ndata: ${JSON.stringify(entry)}\n\n`);
      if (page.next) [after, quietSince] = [page.next, Date.now()];
      else {
        if (Date.now() - quietSince >= STREAM_HEARTBEAT_MS) {
          res.write(': alive\n\n');
          quietSince = Date.now();
        }
        await new Promise((r) => setTimeout(r, STREAM_POLL_MS));
      }
      if (closed) break;
      page = await readChangelog(this.sql, this.settled, p, { ...params, after }).catch(() => ({
        entries: [],
        next: null,
      }));
    }
    res.end();
  }
}
