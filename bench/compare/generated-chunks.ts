/**
 * Chunk rows for the scaling table, made from real ones (the SciFact seed, as COPY text): row i is seed row
 * i mod S; from the second pass over the seed on, each row gets a document id of its own (a hash of the pass and
 * the original id) and its vector a deterministic perturbation (noise on a subset of its dimensions, from a PRNG
 * seeded by i), so that every vector is distinct but stays where real vectors are. Cosine distance ignores
 * length, so the perturbed vectors are not normalised again.
 */
import { createHash } from 'node:crypto';
import { CHUNK_COLUMNS } from './chunk-copy.js';

const DOCUMENT_ID = CHUNK_COLUMNS.indexOf('document_id');
const EMBEDDING = CHUNK_COLUMNS.indexOf('embedding');
/** How many dimensions of a copy's vector are perturbed, and how much (the local embedder's values are ~0.05). */
const NOISY_DIMENSIONS = 64;
const NOISE = 0.03;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function seedLines(copyText: Buffer): string[] {
  return copyText.toString('utf8').split('\n').filter(Boolean);
}

function variant(line: string, pass: number, i: number): string {
  const fields = line.split('\t');
  fields[DOCUMENT_ID] = uuidOf(`${pass}:${fields[DOCUMENT_ID]}`);
  const values = fields[EMBEDDING]!.slice(1, -1).split(',');
  const random = mulberry32(i + 1);
  for (let k = 0; k < NOISY_DIMENSIONS; k++) {
    const d = Math.floor(random() * values.length);
    values[d] = (Number(values[d]) + (random() * 2 - 1) * NOISE).toFixed(5);
  }
  fields[EMBEDDING] = `[${values.join(',')}]`;
  return fields.join('\t');
}

/** `count` rows of COPY text, in blocks of about 1,000 rows. */
export function* generatedChunks(seed: readonly string[], count: number): Generator<string> {
  let block: string[] = [];
  for (let i = 0; i < count; i++) {
    const pass = Math.floor(i / seed.length);
    const line = seed[i % seed.length]!;
    block.push(pass === 0 ? line : variant(line, pass, i));
    if (block.length === 1000 || i === count - 1) {
      yield `${block.join('\n')}\n`;
      block = [];
    }
  }
}
