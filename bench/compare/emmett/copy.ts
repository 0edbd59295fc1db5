/**
 * PostgreSQL COPY for the limit benchmarks (bench/compare/rebuild.ts, scaling.ts), with pg-copy-streams: a table's
 * rows out as COPY text, and COPY text in from any stream of chunks.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/** The rows of `select` as COPY text (one buffer: the SciFact seed is tens of megabytes). */
export async function copyOut(url: string, select: string): Promise<Buffer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const parts: Buffer[] = [];
    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT`));
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  } finally {
    await client.end();
  }
}

/** COPY `table (columns)` FROM STDIN, fed from `source`; returns the rows copied. */
export async function copyIn(
  url: string,
  table: string,
  columns: readonly string[],
  source: Iterable<Buffer | string> | AsyncIterable<Buffer | string>,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const sink = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from(source, { objectMode: false }), sink);
    return Number(sink.rowCount);
  } finally {
    await client.end();
  }
}
