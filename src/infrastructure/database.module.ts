import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AsyncProjection, Projection } from './projections/projection.js';
import { noAppendRecorder, type AppendRecorder } from './event-store/append-recorder.js';
import { CLOCK, systemClock, type Clock } from './clock/clock.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import type { EventRegistry } from './event-store/event-registry.js';
import { EVENT_STORE, type EventStore } from './event-store/event-store.js';
import { EVENT_REGISTRY, serviceEventRegistry } from './event-store/event-types.js';
import { READ_MODEL_HORIZON } from './event-store/horizon.js';
import { openEventStore, type OpenedStore } from './event-store/open-event-store.js';
import { migrate } from './migrations/migrator.js';
import { ProjectionEngine } from './projections/projection-engine.js';
import { createSqlClient } from './sql/create-sql-client.js';
import { SQL_CLIENT, type SqlClient } from './sql/sql-client.js';

export const INLINE_PROJECTIONS = Symbol('INLINE_PROJECTIONS');
export const ASYNC_PROJECTIONS = Symbol('ASYNC_PROJECTIONS');
const OPENED_STORE = Symbol('OPENED_STORE');
const projectorLog = new Logger('projector');

/**
 * Opens the database and applies migrations before the application is built, so that a locked DATA_DIR, a
 * missing extension or an edited migration stops start-up with one clear message.
 */
export async function openDatabase(config: AppConfig): Promise<SqlClient> {
  const sql = await createSqlClient(config);
  try {
    await migrate(sql);
    return sql;
  } catch (error) {
    await sql.close();
    throw error;
  }
}

/** An SQL client opened by the caller (tests, embedding), migrated like a fresh one. */
export async function migrated(sql: SqlClient): Promise<SqlClient> {
  await migrate(sql);
  return sql;
}

/** Provides the database, the event store and the projection engine, and runs this process's projectors for as long as the app lives. */
@Module({})
export class DatabaseModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(ProjectionEngine) private readonly engine: ProjectionEngine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(OPENED_STORE) private readonly opened: OpenedStore,
  ) {}

  static forRoot(
    config: AppConfig,
    sql: SqlClient,
    projections: { inline: Projection[]; async: AsyncProjection[] } = { inline: [], async: [] },
    /** Tests inject one; it then also stamps when events are recorded (see PostgresEventStore). */
    injected?: Clock,
    /** Told of every committed append (the application's metrics). */
    appends: AppendRecorder = noAppendRecorder,
  ): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: injected ?? systemClock },
        { provide: EVENT_REGISTRY, useFactory: serviceEventRegistry },
        { provide: SQL_CLIENT, useValue: sql },
        {
          provide: OPENED_STORE,
          inject: [EVENT_REGISTRY, CLOCK],
          useFactory: (registry: EventRegistry, clock: Clock) =>
            openEventStore({ config, sql, registry, clock, injected, appends, projections }),
        },
        { provide: INLINE_PROJECTIONS, inject: [OPENED_STORE], useFactory: (o: OpenedStore) => o.inline },
        { provide: ASYNC_PROJECTIONS, inject: [OPENED_STORE], useFactory: (o: OpenedStore) => o.async },
        { provide: EVENT_STORE, inject: [OPENED_STORE], useFactory: (o: OpenedStore) => o.store },
        { provide: READ_MODEL_HORIZON, inject: [OPENED_STORE], useFactory: (o: OpenedStore) => o.settled },
        {
          provide: ProjectionEngine,
          inject: [SQL_CLIENT, EVENT_STORE, INLINE_PROJECTIONS, ASYNC_PROJECTIONS],
          useFactory: (sql: SqlClient, store: EventStore, inline: Projection[], async: AsyncProjection[]) =>
            new ProjectionEngine(sql, store, inline, async, {
              batchSize: config.PROJECTOR_BATCH_SIZE,
              batchBytes: config.PROJECTOR_BATCH_BYTES,
              pollMs: config.PROJECTOR_POLL_MS,
              standbyRetryMs: Math.max(config.PROJECTOR_POLL_MS, 1_000),
              // Rare (a table doubling) and it holds the projector's session meanwhile: worth a line.
              onEvent: (e) => {
                if (e.kind === 'analyzed') projectorLog.log(`analyzed ${e.tables.join(', ')} in ${e.ms} ms`);
              },
            }),
        },
      ],
      exports: [
        APP_CONFIG,
        CLOCK,
        SQL_CLIENT,
        EVENT_STORE,
        EVENT_REGISTRY,
        READ_MODEL_HORIZON,
        ProjectionEngine,
      ],
    };
  }

  onApplicationBootstrap(): void {
    if (this.config.PROJECTOR_ENABLED) this.engine.start();
  }

  /**
   * Stops the projectors, but waits at most SHUTDOWN_TIMEOUT_MS for them: a projector inside a long statement (a
   * vector CREATE INDEX) is then aborted on the server, which frees its advisory lock for the process replacing
   * this one, instead of holding it until the statement ends.
   */
  async onApplicationShutdown(): Promise<void> {
    const stopping = this.engine.stop();
    if (!(await settlesWithin(stopping, this.config.SHUTDOWN_TIMEOUT_MS))) {
      await this.sql.abort();
      await settlesWithin(stopping, this.config.SHUTDOWN_TIMEOUT_MS);
    }
    await this.opened.close();
    await this.sql.close();
  }
}

/** Whether `work` settles (either way) within `ms`; the timer does not keep the process alive. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
