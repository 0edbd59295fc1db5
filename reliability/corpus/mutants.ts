/**
 * The real files to mutate (those the corpus's MANIFEST.tsv lists), and the i-th mutant of them: everything about it
 * derives from the seed and its index, so that one mutant can be replayed alone (`--only`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYTE_MUTATIONS } from './byte-mutations.js';
import { DOCX_MUTATIONS } from './docx-mutations.js';
import { PDF_MUTATIONS } from './pdf-mutations.js';
import { pick, rng } from './random.js';
import { unzip, zipOf } from './zip.js';

export interface Source {
  file: string;
  bytes: Buffer;
  kind: 'pdf' | 'docx';
}

export function loadCorpus(corpusDir: string): Source[] {
  const manifest = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return manifest
    .map((line) => line.split('\t')[0]!)
    .filter((f) => /\.(pdf|docx)$/i.test(f))
    .map((file) => ({
      file,
      bytes: readFileSync(join(corpusDir, file)),
      kind: file.toLowerCase().endsWith('.pdf') ? ('pdf' as const) : ('docx' as const),
    }));
}

export interface Mutant {
  index: number;
  source: string;
  mutation: string;
  name: string;
  bytes: Buffer;
}

/** The i-th mutant: half byte-level mutations of any file, half structural ones of its kind. */
export async function mutant(sources: Source[], index: number, seed: number): Promise<Mutant> {
  const r = rng(seed * 1_000_003 + index);
  const src = pick(r, sources);
  let mutation: string;
  let bytes: Buffer;
  if (r() < 0.5) {
    mutation = pick(r, Object.keys(BYTE_MUTATIONS));
    bytes = BYTE_MUTATIONS[mutation as keyof typeof BYTE_MUTATIONS](r, src.bytes);
    // Sometimes twice over.
    if (r() < 0.2)
      bytes = BYTE_MUTATIONS[pick(r, Object.keys(BYTE_MUTATIONS)) as keyof typeof BYTE_MUTATIONS](r, bytes);
  } else if (src.kind === 'docx') {
    mutation = pick(r, Object.keys(DOCX_MUTATIONS));
    const entries = await unzip(src.bytes);
    bytes = zipOf(DOCX_MUTATIONS[mutation]!(r, entries));
  } else {
    mutation = pick(r, Object.keys(PDF_MUTATIONS));
    bytes = PDF_MUTATIONS[mutation]!(r, src.bytes);
  }
  const base = src.file.split('/').pop()!;
  return { index, source: src.file, mutation, name: `m${index}-${mutation}-${base}`, bytes };
}
