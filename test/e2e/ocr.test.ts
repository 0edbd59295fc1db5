import { scannedPdf } from '../fixtures/extraction/scanned.js';
import { targets } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

/** A scan uploaded as a user would: read by OCR in the extraction worker, then found by a word it shows. */
describe.each(targets())('OCR of scanned PDFs on %s', (kind) => {
  let svc: TestService;
  beforeAll(async () => (svc = await startService(kind)));
  afterAll(() => svc?.close());

  const upload = (pdf: Buffer) => {
    const form = new FormData();
    form.set('file', new Blob([pdf]), 'scan.pdf');
    form.set('coachId', 'carnivore');
    form.set('metadata', JSON.stringify({ documentType: 'research', tags: [], accessTier: 'free' }));
    return svc.request('POST', '/documents', { form });
  };

  it('makes a scanned page searchable by a word it shows, and says the page came from OCR', async () => {
    const res = await upload(scannedPdf(['Ashwagandha lowers cortisol', 'in stressed adults']));
    expect(res.status).toBe(201);
    const doc = (await svc.request('GET', `/documents/${res.body.documentId}`)).body;
    expect(doc.content).toMatch(/Ashwagandha lowers cortisol/);
    expect(doc.metadata.ocrPages).toEqual([1]);
    const search = await svc.request('POST', '/search', {
      json: { coachId: 'carnivore', query: 'ashwagandha', mode: 'text', minPosition: res.body.position },
    });
    expect(search.body.results.map((r: { documentId: string }) => r.documentId)).toContain(
      res.body.documentId,
    );
  }, 120_000);
});
