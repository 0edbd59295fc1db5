import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';

/** The columns of an import (API.md); the first five are required, the others may be left out or empty. */
export const CSV_COLUMNS = [
  'coach_id',
  'title',
  'content',
  'document_type',
  'access_tier',
  'tags',
  'author',
  'publication_date',
] as const;
const REQUIRED = CSV_COLUMNS.slice(0, 5);
export type CsvColumn = (typeof CSV_COLUMNS)[number];

export const CSV_LIMITS = {
  /** One record (one document's row, quoted newlines included); a larger document goes to POST /documents. */
  maxRecordBytes: 1024 * 1024,
  /** Rows per request: the whole file is read and checked before anything is written. */
  maxRows: 10_000,
};

/** A record of the file: the line it starts on (1 = the header's) and its fields by column. */
export interface CsvRow {
  line: number;
  fields: Partial<Record<CsvColumn, string>>;
  /** Set when the record has not one field per column. */
  fieldCount?: number;
}

const lineBreaks = (value: string) => value.match(/\r\n|\n/g)?.length ?? 0;

/**
 * Reads a CSV file (UTF-8, optional BOM, `,` separated, `"` quoted, CRLF or LF) with a streaming parser. A
 * malformed file, a record over the size limit, a bad header or too many rows refuse the whole file (400
 * VALIDATION_FAILED with the line): nothing of it is imported.
 */
export async function readCsv(bytes: Buffer): Promise<CsvRow[]> {
  const parser = Readable.from([bytes]).pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n'],
      max_record_size: CSV_LIMITS.maxRecordBytes,
    }),
  );
  const rows: CsvRow[] = [];
  let header: string[] | undefined;
  // A record's first line: the line after the previous record's last, past the empty lines skipped since.
  let [lastLine, emptyLines] = [0, 0];
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { empty_lines: number };
    }>) {
      const line = lastLine + 1 + (info.empty_lines - emptyLines);
      [lastLine, emptyLines] = [line + record.reduce((n, v) => n + lineBreaks(v), 0), info.empty_lines];
      if (!header) header = checkHeader(record);
      else rows.push(rowOf(header, record, line));
      if (rows.length > CSV_LIMITS.maxRows) throw tooMany();
    }
  } catch (error) {
    if (error instanceof CsvError) throw malformed(error);
    throw error;
  }
  if (!header) throw invalid('the file is empty: it needs a header line', 'file');
  return rows;
}

function rowOf(header: string[], record: string[], line: number): CsvRow {
  const fields: CsvRow['fields'] = {};
  header.forEach((column, i) => (fields[column as CsvColumn] = record[i]));
  return record.length === header.length ? { line, fields } : { line, fields, fieldCount: record.length };
}

function checkHeader(record: string[]): string[] {
  const header = record.map((c) => c.trim().toLowerCase());
  const unknown = header.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const twice = header.filter((c, i) => header.indexOf(c) !== i);
  if (unknown.length + missing.length + twice.length === 0) return header;
  const said = [
    unknown.length ? `unknown column(s) ${unknown.join(', ')}` : '',
    missing.length ? `missing column(s) ${missing.join(', ')}` : '',
    twice.length ? `repeated column(s) ${twice.join(', ')}` : '',
  ].filter(Boolean);
  return invalidHeader(`line 1 (header): ${said.join('; ')}; the columns are ${CSV_COLUMNS.join(',')}`);
}

const invalid = (detail: string, path: string) =>
  new ValidationFailedError(detail, { errors: [{ path, message: detail }] });

function invalidHeader(detail: string): never {
  throw invalid(detail, 'file.header');
}

const tooMany = () =>
  invalid(`the file has more than ${CSV_LIMITS.maxRows} rows; split it into several requests`, 'file');

function malformed(error: CsvError): ValidationFailedError {
  const line = (error as CsvError & { lines?: number }).lines;
  const detail =
    error.code === 'CSV_MAX_RECORD_SIZE'
      ? `a record is larger than ${CSV_LIMITS.maxRecordBytes} bytes`
      : `the file is not valid CSV (${error.code})`;
  return invalid(line ? `${detail} at line ${line}` : detail, 'file');
}
