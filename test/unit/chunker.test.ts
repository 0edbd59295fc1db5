import { tokenCount } from '../../src/infrastructure/embeddings/tokens.js';
import { extractInProcess } from '../../src/infrastructure/extraction/extract.js';
import { markdownSections } from '../../src/infrastructure/extraction/text.js';
import {
  DEFAULT_CHUNKER_CONFIG,
  chunkText,
  chunkerVersion,
  validateChunkerConfig,
  type Chunk,
  type ChunkerConfig,
  type ChunkerInput,
} from '../../src/projections/chunks/chunker.js';
import { docxOf } from '../support/zip.js';

const SMALL: ChunkerConfig = { targetTokens: 40, overlapTokens: 8, maxTokens: 60 };
const CONFIGS: ChunkerConfig[] = [
  DEFAULT_CHUNKER_CONFIG,
  SMALL,
  { targetTokens: 100, overlapTokens: 0, maxTokens: 100 },
  { targetTokens: 3, overlapTokens: 1, maxTokens: 4 },
];

/** A deterministic stream of words (no punctuation) from a small vocabulary. */
function words(count: number, seed = 1): string {
  const vocab = ['protein', 'dose', 'muscle', 'recovery', 'sleep', 'training', 'load', 'the', 'of', 'and'];
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out.push(x % 7 === 0 ? String(x % 100000) : vocab[x % vocab.length]!);
  }
  return out.join(' ');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What every chunking must satisfy: exact offsets, true token counts under the maximum, no empty or
 * untrimmed chunk, no split surrogate pair, and all the non-whitespace text covered in order. Problems are
 * collected and compared once (tens of thousands of expect calls would make the adversarial cases slow).
 */
function expectSound(text: string, chunks: Chunk[], config: ChunkerConfig): void {
  const problems: string[] = [];
  let covered = 0;
  chunks.forEach((chunk, i) => {
    const fail = (what: string) => problems.length < 10 && problems.push(`chunk ${i}: ${what}`);
    if (chunk.index !== i) fail(`index ${chunk.index}`);
    if (chunk.content !== text.slice(chunk.startChar, chunk.endChar)) fail('content is not its text slice');
    if (chunk.content === '' || chunk.content.trim() !== chunk.content) fail('empty or untrimmed');
    if (LONE_SURROGATE.test(chunk.content)) fail('splits a surrogate pair');
    if (chunk.tokens !== tokenCount(chunk.content)) fail(`tokens ${chunk.tokens} is not the count`);
    if (chunk.tokens > config.maxTokens) fail(`${chunk.tokens} tokens, over ${config.maxTokens}`);
    const previous = chunks[i - 1];
    if (previous && (chunk.startChar <= previous.startChar || chunk.endChar <= previous.endChar)) {
      fail('does not move on from the previous chunk');
    }
    if (chunk.startChar > covered && text.slice(covered, chunk.startChar).trim() !== '') {
      fail(`text before it is in no chunk: ${JSON.stringify(text.slice(covered, chunk.startChar))}`);
    }
    covered = Math.max(covered, chunk.endChar);
  });
  if (text.slice(covered).trim() !== '') problems.push('text after the last chunk is in no chunk');
  expect(problems).toEqual([]);
}

/** The shared text of two consecutive chunks, or '' if they do not overlap. */
function shared(text: string, a: Chunk, b: Chunk): string {
  return b.startChar < a.endChar ? text.slice(b.startChar, a.endChar) : '';
}

/** Markdown-like text with its headings as sections, offsets found by hand. */
function handMadeDocument(): ChunkerInput {
  const parts: Array<[level: number, title: string] | string> = [
    'Preface before any heading: this text belongs to no section.',
    [1, 'Methods'],
    `We measured ${words(40, 3)}. Then we rested! Did it work? Yes.`,
    '- a list item\n- another item with émojis 🏋️‍♀️ and accents: crème brûlée\n- 中文句子。第二句！',
    [2, 'Dosing'],
    `${words(300, 5)}. ${words(30, 6)}.`,
    '```\nconst code = "kept as written";\n```',
    [1, 'Results'],
    'Short.',
    [2, 'Tables'],
    '| a | b |\n|---|---|\n| 1 | 2 |',
    `A sentence that goes on ${words(200, 9)} and never stops`,
  ];
  let content = '';
  const sections: NonNullable<ChunkerInput['sections']> = [];
  for (const part of parts) {
    if (content) content += '\n\n';
    if (typeof part === 'string') {
      content += part;
    } else {
      sections.push({ level: part[0], title: part[1], startChar: content.length });
      content += `${'#'.repeat(part[0])} ${part[1]}`;
    }
  }
  return { content, sections };
}

/**
 * No chunk may run across the start of one of the headings of `input`, except a chunk that opens with a bare
 * heading line merged into the section after it.
 */
function expectWithinSections(input: ChunkerInput, chunks: Chunk[]): void {
  for (const chunk of chunks) {
    for (const section of input.sections ?? []) {
      const before = input.content.slice(chunk.startChar, section.startChar).trim();
      const bareHeading = (input.sections ?? []).some(
        (s) => s.startChar === chunk.startChar && !before.includes('\n') && before.endsWith(s.title),
      );
      const crosses =
        section.startChar > chunk.startChar && section.startChar < chunk.endChar && !bareHeading;
      expect(crosses ? `${chunk.index} crosses "${section.title}"` : 'within').toBe('within');
    }
  }
}

describe('chunker', () => {
  describe('offsets and coverage', () => {
    it.each(CONFIGS.map((c) => [chunkerVersion(c), c] as const))(
      'points every chunk at its exact text and covers all the text in order (%s)',
      (_name, config) => {
        const input = handMadeDocument();
        const chunks = chunkText(input, config);
        expect(chunks.length).toBeGreaterThan(1);
        expectSound(input.content, chunks, config);
        expectWithinSections(input, chunks);
      },
    );

    it('returns no chunks for empty or whitespace-only text', () => {
      expect(chunkText({ content: '' })).toEqual([]);
      expect(chunkText({ content: ' \n\n\t \u00a0\u3000\n' })).toEqual([]);
      expect(chunkText({ content: '\n\n', sections: [{ level: 1, title: 'x', startChar: 0 }] })).toEqual([]);
    });

    it('trims the whitespace around a chunk', () => {
      const chunks = chunkText({ content: '\n\n   Hello world.  \n\n' });
      expect(chunks).toEqual([
        { index: 0, content: 'Hello world.', startChar: 5, endChar: 17, tokens: tokenCount('Hello world.') },
      ]);
    });
  });

  describe('hard maximum', () => {
    const adversarial: Array<[string, string]> = [
      ['one 20,000-word paragraph without punctuation', words(20_000)],
      ['a 50,000-character base64 blob', Buffer.alloc(37_500, 'chunker').toString('base64')],
      ['50,000 letters in one run', 'a'.repeat(50_000)],
      ['20,000 CJK characters without punctuation', '文字'.repeat(10_000)],
      ['emoji (surrogate pairs) without spaces', '🏋️😀𝒳'.repeat(5_000)],
      [
        'very long sentences around a blob and a gap of 50,000 spaces',
        `${words(3_000, 2)}, ${'x9/+'.repeat(3_000)} ${words(3_000, 4)}` +
          `${' '.repeat(50_000)}${words(2_000, 8)}. End.`,
      ],
      ['numbers and symbols', '12345678901234567890-=-=-=!!!???...'.repeat(2_000)],
    ];
    it.each(
      adversarial.flatMap(([name, text]) => CONFIGS.map((c) => [name, chunkerVersion(c), text, c] as const)),
    )('holds for %s (%s)', (_name, _version, text, config) => {
      const chunks = chunkText({ content: text }, config);
      expectSound(text, chunks, config);
    });
  });

  describe('target and overlap', () => {
    // Short paragraphs (about 10 tokens each, fewer than the overlap) in two sections.
    const paragraphs = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) => `Point ${i}: ${words(6, seed + i)}.`);
    const first = paragraphs(40, 100);
    const second = paragraphs(40, 200);
    const content = ['# One', ...first, '# Two', ...second].join('\n\n');
    const sections = markdownSections(content);
    const config: ChunkerConfig = { targetTokens: 64, overlapTokens: 20, maxTokens: 96 };

    it('overlaps consecutive chunks of a section by shared text of at most overlapTokens', () => {
      expect(Math.max(...first.concat(second).map(tokenCount))).toBeLessThan(config.overlapTokens);
      const chunks = chunkText({ content, sections }, config);
      expectSound(content, chunks, config);
      let overlaps = 0;
      for (let i = 1; i < chunks.length; i++) {
        const [a, b] = [chunks[i - 1]!, chunks[i]!];
        const text = shared(content, a, b);
        if (a.section !== b.section) {
          expect(text).toBe('');
          continue;
        }
        // Every paragraph is smaller than the overlap, so every pair in a section shares at least one.
        expect(text).not.toBe('');
        expect(tokenCount(text)).toBeLessThanOrEqual(config.overlapTokens);
        expect(a.content.endsWith(text)).toBe(true);
        expect(b.content.startsWith(text)).toBe(true);
        expect(first.concat(second).some((p) => text.endsWith(p))).toBe(true);
        overlaps++;
      }
      expect(overlaps).toBeGreaterThan(5);
    });

    it('packs whole paragraphs greedily up to targetTokens, without overlap when it is 0', () => {
      const noOverlap = { ...config, overlapTokens: 0 };
      const chunks = chunkText({ content, sections }, noOverlap);
      expectSound(content, chunks, noOverlap);
      const all = ['# One', ...first, '# Two', ...second];
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        expect(chunk.tokens).toBeLessThanOrEqual(noOverlap.targetTokens);
        // Chunks start and end on paragraph boundaries.
        expect(all.some((p) => chunk.content.startsWith(p + '\n\n') || chunk.content === p)).toBe(true);
        expect(all.some((p) => chunk.content.endsWith(p))).toBe(true);
        const next = chunks[i + 1];
        if (next && next.section === chunk.section) {
          expect(next.startChar).toBeGreaterThan(chunk.endChar);
          // The next paragraph would not have fitted.
          const nextParagraph = all.find((p) => content.startsWith(p, next.startChar))!;
          const grown = content.slice(chunk.startChar, next.startChar + nextParagraph.length);
          expect(tokenCount(grown)).toBeGreaterThan(noOverlap.targetTokens);
        }
      }
    });

    it('keeps a paragraph within maxTokens whole, even over targetTokens', () => {
      const paragraph =
        'Understanding international organizations requires considerable historical knowledge. Researchers ' +
        'frequently investigate complicated relationships between governments, corporations, universities, ' +
        'communities. Experienced professionals recommend comprehensive documentation, transparent ' +
        'communication, responsible management. Successful organizations continuously evaluate ' +
        'international partnerships.';
      const tokens = tokenCount(paragraph);
      expect(tokens).toBeGreaterThan(SMALL.targetTokens);
      expect(tokens).toBeLessThanOrEqual(SMALL.maxTokens);
      const content = `${paragraph}\n\nA short closing paragraph.`;
      expect(chunkText({ content }, SMALL).map((c) => c.content)).toEqual([
        paragraph,
        'A short closing paragraph.',
      ]);
    });

    it('splits a paragraph over maxTokens at sentence ends', () => {
      const sentence = (i: number) => `Sentence ${i} says ${words(20, i)}.`;
      const paragraph = Array.from({ length: 30 }, (_, i) => sentence(i)).join(' ');
      expect(tokenCount(paragraph)).toBeGreaterThan(config.maxTokens);
      const chunks = chunkText({ content: paragraph }, config);
      expectSound(paragraph, chunks, config);
      for (const chunk of chunks) {
        expect(chunk.content).toMatch(/^Sentence \d+ /);
        expect(chunk.content).toMatch(/\.$/);
      }
    });
  });

  describe('sections', () => {
    it('turns Markdown headings into section paths and never spans two sections', () => {
      const markdown = [
        'Intro text.',
        '# A',
        'Under A.',
        '## B',
        `Under B. ${words(120, 1)}.`,
        '```',
        '# not a heading (fenced code)',
        '```',
        '### C',
        'Under C.',
        '## D',
        'Under D.',
        '# E',
        '#### F',
        'Under F, two levels skipped.',
      ].join('\n\n');
      const sections = markdownSections(markdown);
      expect(sections.map((s) => s.title)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
      const input = { content: markdown, sections };
      const chunks = chunkText(input, SMALL);
      expectSound(markdown, chunks, SMALL);
      expectWithinSections(input, chunks);
      expect(chunks[0]).toMatchObject({ content: 'Intro text.' });
      expect(chunks[0]!.section).toBeUndefined();
      const sectionOf = (needle: string) => chunks.find((c) => c.content.includes(needle))?.section;
      expect(sectionOf('Under A.')).toBe('A');
      expect(sectionOf('Under B.')).toBe('A > B');
      expect(sectionOf('# not a heading')).toBe('A > B');
      expect(sectionOf('Under C.')).toBe('A > B > C');
      expect(sectionOf('Under D.')).toBe('A > D');
      expect(sectionOf('Under F')).toBe('E > F');
      // Each heading line opens the first chunk of its section, but a bare "# E" opens F's.
      for (const section of sections.filter((s) => s.title !== 'F')) {
        expect(chunks.some((c) => c.startChar === section.startChar)).toBe(true);
      }
      expect(chunks.find((c) => c.content.includes('Under F'))!.content).toMatch(/^# E\n\n#### F/);
      expect(chunks.some((c) => c.content.trim() === '# E')).toBe(false);
      expect(new Set(chunks.filter((c) => c.content.includes('Under B')).map((c) => c.section))).toEqual(
        new Set(['A > B']),
      );
    });

    it('merges a chunk that is only a heading into the text after it, keeping the heading in its path', () => {
      const markdown = [
        '# Methods',
        '## Dosing',
        'Twice a day.',
        '# Results',
        '# Discussion',
        'It worked.',
      ].join('\n\n');
      const input = { content: markdown, sections: markdownSections(markdown) };
      const chunks = chunkText(input, SMALL);
      expectSound(markdown, chunks, SMALL);
      expect(chunks.map((c) => [c.content, c.section])).toEqual([
        ['# Methods\n\n## Dosing\n\nTwice a day.', 'Methods > Dosing'],
        ['# Results\n\n# Discussion\n\nIt worked.', 'Discussion'],
      ]);
      // A heading with nothing after it stays a chunk: there is no text to merge it into.
      const last = chunkText({
        content: 'Text.\n\n# End',
        sections: [{ level: 1, title: 'End', startChar: 7 }],
      });
      expect(last.map((c) => [c.content, c.section])).toEqual([
        ['Text.', undefined],
        ['# End', 'End'],
      ]);
    });

    it('turns DOCX headings into section paths', async () => {
      const bytes = docxOf([
        { text: 'Training plan', style: 'Heading1' },
        { text: `Warm up first. ${words(60, 11)}.` },
        { text: 'Week 1', style: 'Heading2' },
        { text: `Run 5 km. ${words(60, 12)}.` },
        { text: `Rest on Sunday. ${words(60, 13)}.` },
        { text: 'Nutrition', style: 'Heading1' },
        { text: 'Eat protein.' },
      ]);
      const extracted = await extractInProcess(bytes, { filename: 'plan.docx' });
      expect(extracted.type).toBe('docx');
      const input = { content: extracted.text, sections: extracted.sections };
      const chunks = chunkText(input, SMALL);
      expectSound(input.content, chunks, SMALL);
      expectWithinSections(input, chunks);
      const sectionsOf = (needle: string) => [
        ...new Set(chunks.filter((c) => c.content.includes(needle)).map((c) => c.section)),
      ];
      expect(sectionsOf('Warm up first.')).toEqual(['Training plan']);
      expect(sectionsOf('Run 5 km.')).toEqual(['Training plan > Week 1']);
      expect(sectionsOf('Rest on Sunday.')).toEqual(['Training plan > Week 1']);
      expect(sectionsOf('Eat protein.')).toEqual(['Nutrition']);
      expect(chunks[0]!.content.startsWith('Training plan')).toBe(true);
      expect(chunks.length).toBeGreaterThan(4);
    });
  });

  describe('pages', () => {
    it('gives each chunk the page its start is on', () => {
      const pageTexts = [1, 2, 3, 4].map((p) => `Page ${p} begins. ${words(50 * p, p)}. Page ${p} ends.`);
      let content = '';
      const pages: NonNullable<ChunkerInput['pages']> = [];
      pageTexts.forEach((text, i) => {
        if (content) content += '\n\n';
        pages.push({ page: i + 1, startChar: content.length, endChar: content.length + text.length });
        content += text;
      });
      const chunks = chunkText({ content, pages }, SMALL);
      expectSound(content, chunks, SMALL);
      for (const chunk of chunks) {
        const page = pages.find((p) => chunk.startChar >= p.startChar && chunk.startChar < p.endChar)!;
        expect(chunk.page).toBe(page.page);
      }
      expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 3, 4]));
      expect(chunkText({ content })[0]).not.toHaveProperty('page');
    });
  });

  describe('determinism and configuration', () => {
    it('gives the same chunks for the same input', () => {
      const input = handMadeDocument();
      for (const config of CONFIGS) {
        expect(chunkText(structuredClone(input), config)).toEqual(chunkText(input, config));
      }
    });

    it('versions its output by configuration', () => {
      expect(chunkerVersion(DEFAULT_CHUNKER_CONFIG)).toBe('chunker-v2:256/32/512');
      const versions = new Set(
        [
          DEFAULT_CHUNKER_CONFIG,
          { ...DEFAULT_CHUNKER_CONFIG, targetTokens: 300 },
          { ...DEFAULT_CHUNKER_CONFIG, overlapTokens: 0 },
          { ...DEFAULT_CHUNKER_CONFIG, maxTokens: 1000 },
        ].map(chunkerVersion),
      );
      expect(versions.size).toBe(4);
      expect(chunkerVersion({ ...DEFAULT_CHUNKER_CONFIG })).toBe(chunkerVersion(DEFAULT_CHUNKER_CONFIG));
    });

    it('accepts a valid configuration, overlap 0 included', () => {
      expect(validateChunkerConfig(DEFAULT_CHUNKER_CONFIG)).toEqual(DEFAULT_CHUNKER_CONFIG);
      const config = { targetTokens: 100, overlapTokens: 0, maxTokens: 100 };
      expect(validateChunkerConfig(config)).toEqual(config);
    });

    it.each<[string, Partial<ChunkerConfig>, RegExp]>([
      [
        'overlap equal to target',
        { overlapTokens: 256 },
        /overlapTokens \(256\) must be less than targetTokens/,
      ],
      [
        'overlap above target',
        { overlapTokens: 300 },
        /overlapTokens \(300\) must be less than targetTokens/,
      ],
      ['target above max', { targetTokens: 600 }, /targetTokens \(600\) must not be more than maxTokens/],
      ['zero target', { targetTokens: 0, overlapTokens: 0 }, /targetTokens must be positive/],
      ['negative overlap', { overlapTokens: -1 }, /overlapTokens must not be negative/],
      ['negative max', { targetTokens: 1, overlapTokens: 0, maxTokens: -5 }, /maxTokens must be at least 4/],
      [
        'a max too small to hold one character',
        { targetTokens: 2, overlapTokens: 0, maxTokens: 3 },
        /at least 4/,
      ],
      ['a fraction', { targetTokens: 100.5 }, /targetTokens must be an integer/],
      ['NaN', { maxTokens: Number.NaN }, /maxTokens must be an integer/],
    ])('refuses %s', (_name, change, message) => {
      const config = { ...DEFAULT_CHUNKER_CONFIG, ...change };
      expect(() => validateChunkerConfig(config)).toThrow(message);
      expect(() => chunkText({ content: 'text' }, config)).toThrow(message);
    });
  });
});
