import { EmbeddingError } from '../../src/infrastructure/embeddings/embedder.js';
import {
  DEFAULT_LOCAL_DIMENSIONS,
  LOCAL_EMBEDDER_NAME,
  LocalEmbedder,
  porterStem,
} from '../../src/infrastructure/embeddings/local-embedder.js';

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function norm(a: Float32Array): number {
  return Math.sqrt(cosine(a, a));
}

async function one(embedder: LocalEmbedder, text: string): Promise<Float32Array> {
  const [v] = await embedder.embed([text]);
  return v!;
}

describe('LocalEmbedder', () => {
  const embedder = new LocalEmbedder();

  it('names its space and dimension', () => {
    expect(embedder.dimensions).toBe(DEFAULT_LOCAL_DIMENSIONS);
    expect(embedder.space).toBe(`local:${LOCAL_EMBEDDER_NAME}:${DEFAULT_LOCAL_DIMENSIONS}`);
    const small = new LocalEmbedder({ dimensions: 256 });
    expect(small.space).toBe(`local:${LOCAL_EMBEDDER_NAME}:256`);
    expect(new LocalEmbedder({ tuning: { bigramWeight: 0 } }).space).not.toBe(embedder.space);
  });

  it('refuses invalid dimensions', () => {
    expect(() => new LocalEmbedder({ dimensions: 0 })).toThrow(RangeError);
    expect(() => new LocalEmbedder({ dimensions: 100.5 })).toThrow(RangeError);
    expect(() => new LocalEmbedder({ dimensions: 10_000 })).toThrow(RangeError);
  });

  it('returns one unit vector of the right dimension per text, in order', async () => {
    const texts = ['Insulin resistance in obese adolescents.', 'A second, unrelated text about compilers.'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(2);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(DEFAULT_LOCAL_DIMENSIONS);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(vectors[0]).toEqual(await one(embedder, texts[0]!));
    expect(await embedder.embed([])).toEqual([]);
  });

  it('is deterministic across instances and independent of the other texts of a batch', async () => {
    const text = 'Vitamin D supplementation reduces the risk of hip fractures in elderly women (n = 1,204).';
    const a = await one(new LocalEmbedder(), text);
    const [, b] = await new LocalEmbedder().embed(['something else entirely', text]);
    expect(Array.from(b!)).toEqual(Array.from(a));
    const small = await one(new LocalEmbedder({ dimensions: 128 }), text);
    expect(small).toHaveLength(128);
    expect(norm(small)).toBeCloseTo(1, 5);
  });

  it('places texts sharing rare terms closer than unrelated texts', async () => {
    const query = await one(embedder, 'Does vitamin D supplementation prevent osteoporotic fractures?');
    const related = await one(
      embedder,
      'Osteoporotic fracture incidence was lower among women given vitamin D supplements for five years.',
    );
    const unrelated = await one(
      embedder,
      'The compiler emits bytecode for the virtual machine and optimises hot loops at run time.',
    );
    const sharesOnlyCommonWords = await one(
      embedder,
      'Does the new policy prevent delays? The study shows results for five years.',
    );
    expect(cosine(query, related)).toBeGreaterThan(0.2);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.15);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, sharesOnlyCommonWords));
  });

  it('matches morphological variants, British spellings, compounds and Greek letters', async () => {
    const c = async (a: string, b: string) => cosine(await one(embedder, a), await one(embedder, b));
    const unrelated = await c('supplementation', 'photosynthesis');
    expect(await c('supplementation', 'supplements')).toBeGreaterThan(unrelated + 0.3);
    expect(await c('hyperglycaemia', 'hyperglycemia')).toBeGreaterThan(0.99);
    expect(await c('tumour suppression', 'tumor suppressor')).toBeGreaterThan(0.6);
    expect(await c('randomised trial', 'randomized trials')).toBeGreaterThan(0.95);
    expect(await c('IL-6 levels', 'IL6 levels')).toBeGreaterThan(0.99);
    expect(await c('IL-6 levels', 'IL-10 levels')).toBeLessThan(0.9);
    expect(await c('COVID-19', 'covid19')).toBeGreaterThan(0.99);
    expect(await c('TNF-α', 'TNF-alpha')).toBeGreaterThan(0.99);
    expect(await c('glycaemic control', 'hyperglycemia')).toBeGreaterThan(
      await c('glycaemic control', 'asthma'),
    );
  });

  it('gives texts without any word a fixed non-zero unit vector', async () => {
    const [empty, punctuation, spaces] = await embedder.embed(['', '!!! ... ---', '   \n\t']);
    const expected = new Float32Array(DEFAULT_LOCAL_DIMENSIONS).fill(1 / Math.sqrt(DEFAULT_LOCAL_DIMENSIONS));
    expect(empty).toEqual(expected);
    expect(punctuation).toEqual(expected);
    expect(spaces).toEqual(expected);
  });

  it('embeds texts made only of stopwords from their stopwords, never as NaN', async () => {
    const [a, b, c] = await embedder.embed(['the of and', 'The of AND.', 'to be or not to be']);
    for (const v of [a!, b!, c!]) {
      expect(v.every((x) => Number.isFinite(x))).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(cosine(a!, b!)).toBeCloseTo(1, 5);
    expect(cosine(a!, c!)).toBeLessThan(0.9);
  });

  it('handles long, non-ASCII and odd inputs', async () => {
    const texts = [
      'word '.repeat(20_000),
      'Müller–Lyer illusion: naïve observers, µg/mL, 37 °C, 2.5%',
      '数据 검색 данные',
      '\u0000\uffff\ud83d\ude00',
    ];
    for (const v of await embedder.embed(texts)) {
      expect(v.every((x) => Number.isFinite(x))).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    const c = cosine(await one(embedder, 'naive Muller'), await one(embedder, 'naïve Müller'));
    expect(c).toBeCloseTo(1, 5);
  });

  it('stops when aborted, as a retryable EmbeddingError', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(['text'], { signal: controller.signal })).rejects.toMatchObject({
      name: 'EmbeddingError',
      retryable: true,
    });
    await expect(embedder.embed(['text'], { signal: controller.signal })).rejects.toBeInstanceOf(
      EmbeddingError,
    );
  });

  it('stems like Porter', () => {
    expect(porterStem('supplementation')).toBe('supplement');
    expect(porterStem('supplements')).toBe('supplement');
    expect(porterStem('caresses')).toBe('caress');
    expect(porterStem('ponies')).toBe('poni');
    expect(porterStem('hopping')).toBe('hop');
    expect(porterStem('relational')).toBe('relat');
    expect(porterStem('generalizations')).toBe('gener');
  });
});
