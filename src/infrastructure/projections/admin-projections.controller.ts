import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { RequireRole } from '../auth/auth.guard.js';
import { SQL_CLIENT, type SqlClient } from '../sql/sql-client.js';
import { ProjectionEngine, type ProjectionStatus } from './projection-engine.js';

export interface DeadLetter {
  position: string;
  eventId: string;
  eventType: string;
  streamId: string;
  errorCode: string;
  error: string;
  at: string;
}

/**
 * GET /admin/projections: every projection's position, lag and state, with the events it had to set aside.
 * POST /admin/projections/:name/rebuild: truncate and replay. An inline projection is rebuilt before the answer
 * ('rebuilt'); an async one is answered at once ('rebuild_requested') and its progress shows in the list.
 */
@Controller('admin/projections')
@RequireRole('admin')
export class AdminProjectionsController {
  constructor(
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  @Post(':name/rebuild')
  @HttpCode(202)
  async rebuild(
    @Param('name') name: string,
  ): Promise<{ name: string; status: 'rebuilt' | 'rebuild_requested' }> {
    return { name, status: await this.engine.requestRebuild(name) };
  }

  @Get()
  async list(): Promise<Array<ProjectionStatus & { deadLetters: DeadLetter[] }>> {
    const statuses = await this.engine.status();
    const { rows } = await this.sql.query<DeadLetter & { projection: string; version: number }>(
      `SELECT projection, version, position, event_id::text AS "eventId", event_type AS "eventType",
              stream_id AS "streamId", error_code AS "errorCode", error, created_at::text AS at
       FROM projection_dead_letters ORDER BY created_at LIMIT 1000`,
    );
    return statuses.map((s) => ({
      ...s,
      deadLetters: rows
        .filter((r) => r.projection === s.name && r.version === s.version)
        .map(({ projection: _p, version: _v, ...letter }) => letter),
    }));
  }
}
