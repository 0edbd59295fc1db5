/** A generated corpus loaded through `POST /imports/csv` (bench/backup.ts, reliability/load.ts). */
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS } from '../src/commands/import-csv/csv-rows.js';
import type { Doc } from './corpus.js';

/** Content per CSV file: well under the default upload limit (50 MB). */
const PART_BYTES = 20 * 1024 * 1024;

/** The documents as CSV files of at most ~PART_BYTES of content each; `author` names who loaded them. */
export function corpusCsvParts(docs: Doc[], author: string): string[] {
  const parts: string[] = [];
  let rows: string[][] = [];
  let bytes = 0;
  for (const d of docs) {
    const m = d.metadata;
    rows.push([
      d.coachId,
      d.title,
      d.content,
      m.documentType,
      m.accessTier,
      m.tags.join(','),
      author,
      '2024-01-01',
    ]);
    bytes += d.content.length;
    if (bytes > PART_BYTES) {
      parts.push(stringify([[...CSV_COLUMNS], ...rows]));
      [rows, bytes] = [[], 0];
    }
  }
  if (rows.length > 0) parts.push(stringify([[...CSV_COLUMNS], ...rows]));
  return parts;
}

/** Posts each part to `POST /imports/csv` as `key`; `note` hears the start of each answer. */
export async function importCorpusCsv(
  base: string,
  key: string,
  parts: string[],
  note: (line: string) => void,
): Promise<void> {
  for (const [i, csv] of parts.entries()) {
    const form = new FormData();
    form.set('file', new Blob([csv]), `part-${i}.csv`);
    const res = await fetch(`${base}/imports/csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`CSV part ${i}: ${res.status} ${text.slice(0, 500)}`);
    note(`CSV part ${i}: ${text.slice(0, 100)}`);
  }
}
