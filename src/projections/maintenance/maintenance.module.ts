import { Module, type DynamicModule } from '@nestjs/common';
import { MAINTENANCE_CHUNKS, type MaintenanceChunks } from './maintenance-context.js';
import { ListMaintenanceRunsHandler, MaintenanceController } from './maintenance.controller.js';
import { MaintenanceRunner } from './maintenance-runner.js';
import { MaintenanceScheduler } from './maintenance.scheduler.js';

/**
 * Maintenance of the read side (docs/maintenance.md): the runner, its schedule, its admin routes and the query
 * of its kept reports. Given the chunks configuration this process projects, whose chunks it checks.
 */
@Module({})
export class MaintenanceModule {
  static forRoot(chunks: MaintenanceChunks): DynamicModule {
    return {
      module: MaintenanceModule,
      controllers: [MaintenanceController],
      providers: [
        { provide: MAINTENANCE_CHUNKS, useValue: chunks },
        MaintenanceRunner,
        MaintenanceScheduler,
        ListMaintenanceRunsHandler,
      ],
      exports: [MaintenanceRunner],
    };
  }
}
