import { Controller, Get, Inject, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.guard.js';
import { ScrapeMetricsQuery } from './metrics.query.js';

/**
 * GET /metrics: Prometheus's text format. API.md keeps only /health*, /docs* and /openapi.json public, and the
 * metrics tell about the corpus and its use, so scraping needs an admin key (a bearer token in the scrape config).
 */
@Controller('metrics')
@RequireRole('admin')
export class MetricsController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const { contentType, text } = await this.queries.execute(new ScrapeMetricsQuery());
    res.setHeader('Content-Type', contentType);
    return text;
  }
}
