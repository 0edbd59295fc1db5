import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ProjectionEngine } from '../projections/projection-engine.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';
import { ScrapeMetricsHandler } from './metrics.query.js';

/**
 * The application's one Metrics (its own registry), for every provider to inject, and GET /metrics. The app module
 * makes the instance, as the event store and the embedders are built with it before the module graph exists.
 */
@Module({})
export class MetricsModule implements OnModuleInit {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
  ) {}

  static forRoot(metrics: Metrics): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [{ provide: Metrics, useValue: metrics }, ScrapeMetricsHandler],
      exports: [Metrics],
    };
  }

  onModuleInit(): void {
    this.metrics.watchProjections(() => this.engine.status());
  }
}
