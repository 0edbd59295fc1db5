import { loadConfig } from '../../src/infrastructure/config/config.js';
import {
  chunksFromConfig,
  LOCAL_HYBRID_TEXT_WEIGHT,
  LOCAL_MIN_SIMILARITY,
  minSimilarityOf,
  OPENAI_MIN_SIMILARITY,
} from '../../src/projections/chunks/chunks.config.js';
import { fuse, RRF_K } from '../../src/projections/chunks/search.js';

type Row = Parameters<typeof fuse>[0][0][0];
const rows = (...ids: string[]) => ids.map((id) => ({ id }) as unknown as Row);
const ids = (fused: Row[]) => fused.map((r) => r.id);

describe('hybrid fusion (weighted reciprocal rank fusion)', () => {
  it('scores each row by the sum of weight / (60 + rank) over the rankings it is in', () => {
    const fused = fuse([rows('a', 'b', 'c'), rows('c', 'a')], 10, [1, 2]);
    const expected = {
      a: 1 / (RRF_K + 1) + 2 / (RRF_K + 2),
      b: 1 / (RRF_K + 2),
      c: 1 / (RRF_K + 3) + 2 / (RRF_K + 1),
    };
    expect(ids(fused)).toEqual(['c', 'a', 'b']);
    for (const row of fused) expect(row.score).toBeCloseTo(expected[row.id as 'a' | 'b' | 'c'], 12);
  });

  it('keeps k rows and breaks ties by id', () => {
    expect(ids(fuse([rows('y', 'x'), rows('x', 'y')], 10))).toEqual(['x', 'y']);
    expect(ids(fuse([rows('a', 'b', 'c', 'd')], 2))).toEqual(['a', 'b']);
  });

  it('with the local default, the vector ranking re-orders near ties of the text ranking but never outranks it', () => {
    const text = rows(...Array.from({ length: 100 }, (_, i) => `t${i}`));
    // The vector ranking's first is the text ranking's second; its second is in no text result.
    const fused = fuse([rows('t1', 'v-only'), text], 101, [1, LOCAL_HYBRID_TEXT_WEIGHT]);
    expect(ids(fused).slice(0, 3)).toEqual(['t1', 't0', 't2']);
    // Even the text ranking's 100th comes before a chunk that only the vector ranking found.
    expect(ids(fused).at(-1)).toBe('v-only');
  });
});

describe('the default text weight of the hybrid', () => {
  it('is LOCAL_HYBRID_TEXT_WEIGHT with the local embedder, 1 with OpenAI, and SEARCH_HYBRID_TEXT_WEIGHT when set', () => {
    // The local default lets the vector ranking re-order neighbours of the text ranking (weight < RRF_K + 2)
    // without lifting a chunk only it found above the last of the hybrid's 100 text candidates.
    expect(LOCAL_HYBRID_TEXT_WEIGHT).toBeLessThan(RRF_K + 2);
    expect(LOCAL_HYBRID_TEXT_WEIGHT).toBeGreaterThan((RRF_K + 100) / (RRF_K + 1));
    expect(chunksFromConfig(loadConfig({})).hybridTextWeight).toBe(LOCAL_HYBRID_TEXT_WEIGHT);
    const openai = { EMBEDDINGS_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test' };
    expect(chunksFromConfig(loadConfig(openai)).hybridTextWeight).toBe(1);
    expect(chunksFromConfig(loadConfig({ SEARCH_HYBRID_TEXT_WEIGHT: '2' })).hybridTextWeight).toBe(2);
    expect(
      chunksFromConfig(loadConfig({ ...openai, SEARCH_HYBRID_TEXT_WEIGHT: '0.5' })).hybridTextWeight,
    ).toBe(0.5);
  });
});

describe('the vector floor', () => {
  it("is the embedder's default unless SEARCH_MIN_SIMILARITY is set, per served version", () => {
    expect(LOCAL_MIN_SIMILARITY).not.toBe(OPENAI_MIN_SIMILARITY);
    expect(minSimilarityOf('local:lexhash-v1:512', undefined)).toBe(LOCAL_MIN_SIMILARITY);
    expect(minSimilarityOf('openai:text-embedding-3-small:1536', undefined)).toBe(OPENAI_MIN_SIMILARITY);
    expect(minSimilarityOf('local:lexhash-v1:512', 0.3)).toBe(0.3);
    expect(minSimilarityOf('openai:text-embedding-3-small:1536', -1)).toBe(-1);
    expect(chunksFromConfig(loadConfig({})).minSimilarity).toBeUndefined();
    expect(chunksFromConfig(loadConfig({ SEARCH_MIN_SIMILARITY: '0.4' })).minSimilarity).toBe(0.4);
  });
});
