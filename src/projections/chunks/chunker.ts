import type { Snapshot } from '../../domain/document/document.js';
import { pack } from './chunk-packing.js';
import { pageAt, segments, type Segment } from './chunk-sections.js';
import { addUnits, PARAGRAPH, type Unit } from './chunk-units.js';
import { DEFAULT_CHUNKER_CONFIG, validateChunkerConfig, type ChunkerConfig } from './chunker-config.js';
import { paragraphs } from './text-ranges.js';

export { DEFAULT_CHUNKER_CONFIG, validateChunkerConfig, type ChunkerConfig } from './chunker-config.js';

/**
 * Splits a document version's text into chunks for embedding: structure-aware (a chunk never spans a
 * heading), greedy up to `targetTokens`, with an overlap of whole trailing units, and a hard maximum of
 * `maxTokens` that holds whatever the input (tokens are cl100k_base, counted on each chunk's actual text).
 *
 * Units, from coarse to fine: paragraphs (split on blank lines); sentences of a paragraph over the maximum;
 * words of a sentence still over it; and, as a last resort, character windows of a single "word" over it (a
 * base64 blob). Each unit is counted once; a chunk of several units is counted once more, since BPE counts do
 * not add up across a join, and shrunk if it went over.
 *
 * The BPE tokenizer is quadratic in the length of a pre-tokenizer piece (a 50,000-character run of letters or
 * of spaces takes seconds), so text with a run of more than LONG_RUN characters is never counted whole: it is
 * split down first, and long runs of whitespace between units are never packed into one chunk.
 *
 * The parts: chunk-sections.ts (segments by heading, pages), text-ranges.ts (paragraphs, sentences, words),
 * chunk-units.ts (units that fit), chunk-packing.ts (units into chunks with overlap).
 */

export interface Chunk {
  /** 0..n-1, in text order. */
  index: number;
  /** Exactly `text.slice(startChar, endChar)`. */
  content: string;
  startChar: number;
  endChar: number;
  /** `tokenCount(content)`, never more than `maxTokens`. */
  tokens: number;
  /** Heading path of the section the chunk is in ("Methods > Dosing"); absent before the first heading. */
  section?: string;
  /** PDFs: the page `startChar` is on. */
  page?: number;
}

export type ChunkerInput = Pick<Snapshot, 'content' | 'sections' | 'pages'>;

/**
 * Bump when the algorithm (or the tokenizer behind `tokenCount`) changes in a way that can change any chunk:
 * stored chunks made by another version must be rebuilt.
 */
const ALGORITHM = 'chunker-v2';

/**
 * Identifies the chunker's output for `config` ("chunker-v1:256/32/512"): equal versions make equal chunks
 * from equal input, so stored chunks of another version need rebuilding. Throws on an invalid config.
 */
export function chunkerVersion(config: ChunkerConfig): string {
  const { targetTokens, overlapTokens, maxTokens } = validateChunkerConfig(config);
  return `${ALGORITHM}:${targetTokens}/${overlapTokens}/${maxTokens}`;
}

/** The chunks of `input.content`, in order; [] for empty or whitespace-only text. */
export function chunkText(input: ChunkerInput, config: ChunkerConfig = DEFAULT_CHUNKER_CONFIG): Chunk[] {
  validateChunkerConfig(config);
  const text = input.content;
  const pages = [...(input.pages ?? [])].sort((a, b) => a.startChar - b.startChar);
  const chunks: Chunk[] = [];
  for (const segment of segments(text, input.sections ?? [])) {
    const units = segmentUnits(text, segment, config);
    for (const [first, last, tokens] of pack(text, units, config)) {
      const startChar = units[first]!.start;
      const endChar = units[last]!.end;
      const page = pageAt(pages, startChar);
      chunks.push({
        index: chunks.length,
        content: text.slice(startChar, endChar),
        startChar,
        endChar,
        tokens,
        ...(segment.path !== undefined ? { section: segment.path } : {}),
        ...(page !== undefined ? { page } : {}),
      });
    }
  }
  return chunks;
}

/** The units of a segment's paragraphs, in order: what its chunks are packed from. */
function segmentUnits(text: string, segment: Segment, config: ChunkerConfig): Unit[] {
  const units: Unit[] = [];
  for (const [start, end] of paragraphs(text, segment.start, segment.end)) {
    addUnits(text, start, end, PARAGRAPH, config, units);
  }
  return units;
}
