import { mutant, type Source } from '../../reliability/corpus/mutants.js';
import { PASSWD } from '../../reliability/corpus/tally.js';
import { textPdf } from '../fixtures/extraction/pdf.js';
import { docx } from '../fixtures/extraction/zip.js';
import { startService, type TestService } from '../support/service.js';

/**
 * The short version of `reliability/corpus-mutations.ts` (RELIABILITY.md, "Hostile input"): its mutations (byte
 * flips, truncations, XXE and billion laughs, zip bombs and hostile archives, Flate bombs, page-tree loops,
 * JavaScript, huge object counts), seed 17, applied to two generated files instead of `../shared/corpus`, uploaded
 * to the service on PGlite one by one. Every answer is a 2xx or a 4xx, no stored text holds what an external
 * entity pointed at, and the service goes on serving.
 */
const MUTANTS = 30;
const sources: Source[] = [
  {
    file: 'pdf/generated.pdf',
    kind: 'pdf',
    bytes: textPdf([
      ['Protein and satiety', 'High-protein meals keep people full for longer.'],
      ['Sleep and recovery', 'Eight hours of sleep help training adaptations.'],
    ]),
  },
  {
    file: 'docx/generated.docx',
    kind: 'docx',
    bytes: docx([
      { heading: 1, text: 'Fibre and glycaemic control' },
      { text: 'Soluble fibre slows the absorption of glucose after a meal.' },
    ]),
  },
];

describe('mutated PDF and DOCX uploads (short)', () => {
  let svc: TestService;
  // Bombs are stopped by the extraction's time and memory limits: shorter ones keep this run short.
  beforeAll(async () => (svc = await startService('pglite', { EXTRACTION_TIMEOUT_MS: '10000' })), 60_000);
  afterAll(() => svc?.close());

  it('answers every one with a 2xx or a 4xx, stores no file an entity points at, and goes on serving', async () => {
    const answers: Record<string, number> = {};
    for (let i = 0; i < MUTANTS; i++) {
      const m = await mutant(sources, i, 17);
      const form = new FormData();
      form.set('coachId', 'carnivore');
      form.set('metadata', JSON.stringify({ documentType: 'research', tags: ['m'], accessTier: 'free' }));
      form.set('file', new Blob([m.bytes]), m.name);
      const res = await svc.request('POST', '/documents', { as: 'editor', form });
      const key = `${m.mutation} ${res.status}`;
      answers[key] = (answers[key] ?? 0) + 1;
      expect({ name: m.name, status: res.status < 500 ? 'below 500' : res.status }).toEqual({
        name: m.name,
        status: 'below 500',
      });
      if (res.status === 201) {
        const stored = await svc.request('GET', `/documents/${res.body.documentId}`, { as: 'editor' });
        expect(stored.body.content).not.toMatch(PASSWD);
      }
    }
    // Structural mutations of both kinds were among them, not only byte flips.
    expect(Object.keys(answers).length).toBeGreaterThan(5);
    expect((await svc.request('GET', '/health')).status).toBe(200);
  }, 600_000);
});
