import { Controller, Get, Inject, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Public } from '../auth/auth.guard.js';
import type { Response } from 'express';
import { GetReadinessQuery, type Readiness } from './readiness.query.js';

@Controller('health')
@Public()
export class HealthController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  /** Liveness: the process answers. No database call, so a slow database does not get the process restarted. */
  @Get()
  alive(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const readiness = await this.queries.execute(new GetReadinessQuery());
    res.status(readiness.ready ? 200 : 503);
    return readiness;
  }
}
