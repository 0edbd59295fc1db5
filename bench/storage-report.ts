import type pg from 'pg';

/** Bytes per current chunk of every table (heap, TOAST) and index of the database, largest first, as markdown. */
export async function storageReport(sql: pg.Client): Promise<string> {
  const chunks = Number(
    (await sql.query<{ n: string }>('SELECT count(*) AS n FROM chunks WHERE is_current')).rows[0]!.n,
  );
  const { rows } = await sql.query<{ table: string; part: string; bytes: string }>(
    `SELECT c.relname AS table, 'heap' AS part, pg_relation_size(c.oid) AS bytes FROM pg_class c
       WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
     UNION ALL
     SELECT c.relname, 'toast', coalesce(pg_total_relation_size(c.reltoastrelid), 0) FROM pg_class c
       WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
     UNION ALL
     SELECT t.relname, 'index ' || i.relname, pg_relation_size(i.oid) FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relnamespace = 'public'::regnamespace`,
  );
  const total = Number(
    (await sql.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]!.b,
  );
  const lines = rows
    .map((r) => ({ ...r, bytes: Number(r.bytes) }))
    .filter((r) => r.bytes > 8192)
    .sort((a, b) => b.bytes - a.bytes)
    .map(
      (r) => `| ${r.table} | ${r.part} | ${(r.bytes / 1e6).toFixed(2)} | ${Math.round(r.bytes / chunks)} |`,
    );
  return [
    `${chunks} current chunks; database ${(total / 1e6).toFixed(1)} MB = ${Math.round(total / chunks)} bytes per chunk\n`,
    '| table | part | MB | bytes / chunk |',
    '|---|---|---:|---:|',
    ...lines,
  ].join('\n');
}
