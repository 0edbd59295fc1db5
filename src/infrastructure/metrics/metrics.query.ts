import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Metrics } from './metrics.js';

export interface Scrape {
  contentType: string;
  text: string;
}

/** A scrape: the projections' gauges are read from the database, then every metric is written out. */
export class ScrapeMetricsQuery extends Query<Scrape> {}

@QueryHandler(ScrapeMetricsQuery)
export class ScrapeMetricsHandler implements IQueryHandler<ScrapeMetricsQuery, Scrape> {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  async execute(): Promise<Scrape> {
    return { contentType: this.metrics.contentType, text: await this.metrics.scrape() };
  }
}
