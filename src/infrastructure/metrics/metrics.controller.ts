import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { RequireRole } from '../auth/auth.guard.js';
import { Metrics } from './metrics.js';

/**
 * GET /metrics: Prometheus's text format. API.md keeps only /health*, /docs* and /openapi.json public, and the
 * metrics tell about the corpus and its use, so scraping needs an admin key (a bearer token in the scrape config).
 */
@Controller('metrics')
@RequireRole('admin')
export class MetricsController {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  @Get()
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const text = await this.metrics.scrape();
    res.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
