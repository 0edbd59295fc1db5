import { createHash } from 'node:crypto';
import { LOCAL_EMBEDDER_NAME, LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { americanize } from '../../src/infrastructure/text/spellings.js';
import { porterStem } from '../../src/infrastructure/text/stemmer.js';
import { tokenize } from '../../src/infrastructure/text/tokenizer.js';
import { fold } from '../../src/infrastructure/text/unicode-fold.js';

describe('text toolkit', () => {
  it('stems known Porter pairs (one per step of the algorithm)', () => {
    const pairs: [string, string][] = [
      ['caresses', 'caress'], // 1a
      ['ponies', 'poni'],
      ['cats', 'cat'],
      ['agreed', 'agre'], // 1b
      ['feed', 'feed'],
      ['plastered', 'plaster'],
      ['conflated', 'conflat'],
      ['hopping', 'hop'],
      ['falling', 'fall'],
      ['filing', 'file'],
      ['happy', 'happi'], // 1c
      ['relational', 'relat'], // 2 (then 4)
      ['conditional', 'condit'],
      ['triplicate', 'triplic'], // 3
      ['hopefulness', 'hope'],
      ['adjustment', 'adjust'], // 4
      ['adoption', 'adopt'],
      ['probate', 'probat'], // 5
      ['controlling', 'control'],
      ['generalizations', 'gener'],
      ['is', 'is'],
    ];
    for (const [word, stem] of pairs) expect([word, porterStem(word)]).toEqual([word, stem]);
  });

  it('maps British spellings to American ones, and leaves look-alikes alone', () => {
    const pairs: [string, string][] = [
      ['haemoglobin', 'hemoglobin'],
      ['oestrogen', 'estrogen'],
      ['tumours', 'tumors'],
      ['randomised', 'randomized'],
      ['analysing', 'analyzing'],
      ['centre', 'center'],
      ['fibre', 'fibre'], // a vowel before -bre: not mapped ("fibre" and "fiber" still share n-grams)
      ['catalogue', 'catalog'],
      ['modelling', 'modeling'],
      ['hours', 'hours'],
      ['flour', 'flour'],
      ['genre', 'genre'],
    ];
    for (const [british, american] of pairs)
      expect([british, americanize(british)]).toEqual([british, american]);
  });

  it('folds accents, Greek letters and dashes', () => {
    expect(fold('naïve café')).toBe('naive cafe');
    expect(fold('TNF-α β‐blockers')).toBe('TNF-alpha beta-blockers');
    expect(fold('before—after')).toBe('before after');
  });

  it('splits compounds and letter/digit runs, keeps decimals whole and marks sentences', () => {
    const tokens = tokenize('IL-6 rose 0.05; p53 fell');
    expect(tokens.map((t) => t.info.word)).toEqual(['il', '6', 'rose', '0.05', 'p', '53', 'fell']);
    expect(tokens.map((t) => t.joined)).toEqual([
      undefined,
      'il6',
      undefined,
      undefined,
      undefined,
      'p53',
      undefined,
    ]);
    expect(tokens.filter((t) => t.sentenceStart).map((t) => t.info.word)).toEqual(['il', 'p']);
    expect(tokens[0]!.upper).toBe(2);
  });

  it(`keeps the ${LOCAL_EMBEDDER_NAME} vectors bit for bit (any change to them must bump LOCAL_EMBEDDER_NAME)`, async () => {
    const texts = [
      '',
      'the of and',
      'Haemoglobin in randomised trials; tumour fibre, oestrogen.',
      'IL-6 and TNF-α in non-small-cell lung cancer: p53, IL6, 0.05 and 1,000 patients.',
      'Hyperglycemia and glycaemic control: insulin insulin. Analysed catalogue, travelled modelling.',
    ];
    const hash = createHash('sha256');
    for (const v of await new LocalEmbedder().embed(texts)) hash.update(Buffer.from(v.buffer));
    expect(hash.digest('hex')).toBe('8ae4a087cdfa398fd716489d85e46dccf6bc4928a9164cd63a1ebac49bc03df4');
  });
});
