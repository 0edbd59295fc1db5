import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import pLimit, { type LimitFunction } from 'p-limit';
import { finalize, type Observable } from 'rxjs';
import { AppError } from '../../domain/errors.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ExtractionError, mb } from '../extraction/extraction.js';

/** Room beside the file for a multipart body's other parts (10 fields of at most 64 KB) and its boundaries. */
export const MULTIPART_ALLOWANCE_BYTES = 1024 * 1024;

export class ServerBusyError extends AppError {
  readonly code = 'SERVER_BUSY';
  readonly status = 503;
  readonly retryAfterSeconds = 5;
}

/**
 * Admission for the requests that bring a document's text (uploads, file replacements, URL and CSV imports).
 * Each one's memory is bounded (MAX_UPLOAD_BYTES, the extraction worker's limits, MAX_CONTENT_CHARS), but not
 * how many run at once: three concurrent hostile uploads took the embedded service to 2.5 GB. So at most
 * INGEST_CONCURRENCY are read, extracted and written at once; the next INGEST_QUEUE_LENGTH wait with their
 * bodies still unread (the connection holds them, not the process) for at most INGEST_QUEUE_TIMEOUT_MS; the
 * rest get 503 SERVER_BUSY with Retry-After at once. A body declared larger than any accepted upload is refused
 * before it waits or is read.
 */
@Injectable()
export class IngestGate implements NestInterceptor {
  private readonly slots: LimitFunction;
  private readonly maxBody: number;
  /** INGEST_CONCURRENCY, else 1 on the embedded database (its memory target is 1 GB) and 2 on a server. */
  private readonly concurrency: number;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.concurrency = config.INGEST_CONCURRENCY ?? (config.DATABASE_URL ? 2 : 1);
    this.slots = pLimit(this.concurrency);
    this.maxBody = config.MAX_UPLOAD_BYTES + MULTIPART_ALLOWANCE_BYTES;
  }

  /** Requests being read, extracted or written now. */
  get running(): number {
    return this.slots.activeCount;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.slots.pendingCount;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const declared = Number(context.switchToHttp().getRequest<Request>().headers['content-length']);
    if (declared > this.maxBody) {
      throw new ExtractionError(
        'FILE_TOO_LARGE',
        `the request is ${mb(declared)}; the largest file accepted is ${mb(this.config.MAX_UPLOAD_BYTES)}`,
        { size: declared, maxBytes: this.config.MAX_UPLOAD_BYTES },
      );
    }
    const release = await this.admit();
    return next.handle().pipe(finalize(release));
  }

  /** A slot, or ServerBusyError when the queue is full or the wait too long; resolves to the slot's release. */
  private admit(): Promise<() => void> {
    if (this.slots.activeCount >= this.concurrency) {
      if (this.slots.pendingCount >= this.config.INGEST_QUEUE_LENGTH) return Promise.reject(this.busy());
    }
    return new Promise((resolve, reject) => {
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        reject(this.busy());
      }, this.config.INGEST_QUEUE_TIMEOUT_MS);
      void this.slots(
        () =>
          new Promise<void>((done) => {
            clearTimeout(timer);
            // A request that gave up waiting gives its slot back as soon as it gets one.
            if (expired) return done();
            resolve(done);
          }),
      );
    });
  }

  private busy(): ServerBusyError {
    return new ServerBusyError(
      `${this.concurrency} uploads are being processed and ${this.slots.pendingCount} are waiting; try again shortly`,
      { concurrency: this.concurrency, waiting: this.slots.pendingCount },
    );
  }
}
