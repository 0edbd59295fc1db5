import { parsePosition } from '../../src/infrastructure/event-store/position.js';
import { targets } from '../support/databases.js';
import { parsePrometheusText, valueOf, type Exposition } from '../support/prometheus-text.js';
import { startService, type TestService } from '../support/service.js';

const doc = (title: string, content: string) => ({
  coachId: 'carnivore',
  title,
  content,
  format: 'markdown',
  metadata: { documentType: 'research', tags: ['protein'], accessTier: 'free' },
});

describe.each(targets())('GET /metrics on %s', (kind) => {
  let svc: TestService;
  let other: TestService;

  const scrape = async (service = svc): Promise<Exposition> => {
    const r = await service.request('GET', '/metrics');
    expect(r.status).toBe(200);
    return parsePrometheusText(r.body as string);
  };
  const file = (name: string, text: string) => {
    const form = new FormData();
    form.set('file', new Blob([text]), name);
    form.set('coachId', 'carnivore');
    form.set('metadata', JSON.stringify({ documentType: 'guide', tags: [], accessTier: 'free' }));
    return form;
  };

  beforeAll(async () => {
    svc = await startService(kind);
    other = await startService(kind);
  });
  afterAll(async () => {
    await svc?.close();
    await other?.close();
  });

  it('needs an admin key, and answers in Prometheus text format', async () => {
    expect((await svc.request('GET', '/metrics', { as: 'none' })).status).toBe(401);
    expect((await svc.request('GET', '/metrics', { as: 'editor' })).status).toBe(403);
    const r = await svc.request('GET', '/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const exposition = parsePrometheusText(r.body as string);
    expect(exposition.types.get('docsvc_http_request_duration_seconds')).toBe('histogram');
    expect(exposition.types.get('docsvc_events_appended_total')).toBe('counter');
    expect(exposition.types.get('docsvc_maintenance_runs_total')).toBe('counter');
    expect(exposition.types.get('docsvc_backups_total')).toBe('counter');
  });

  it('counts an upload: its events, its request by route pattern, its extraction', async () => {
    const before = await scrape();
    const upload = await svc.request('POST', '/documents', {
      form: file('guide.md', '# Guide\n\nEat liver.'),
    });
    expect(upload.status).toBe(201);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('docsvc_events_appended_total', { type: 'DocumentUploaded' })).toBe(1);
    expect(delta('docsvc_events_appended_total', {})).toBe(1);
    const route = { method: 'POST', route: '/documents', status: '201' };
    expect(delta('docsvc_http_request_duration_seconds_count', route)).toBe(1);
    expect(delta('docsvc_extractions_total', { type: 'markdown', outcome: 'ok' })).toBe(1);
    // A refused upload: no event, its code as the extraction's outcome, its status on the route.
    const empty = await svc.request('POST', '/documents', { form: file('empty.txt', '') });
    expect(empty.status).toBe(422);
    const refused = await scrape();
    expect(
      valueOf(refused, 'docsvc_events_appended_total') - valueOf(after, 'docsvc_events_appended_total'),
    ).toBe(0);
    expect(valueOf(refused, 'docsvc_extractions_total', { outcome: 'EMPTY_FILE' })).toBe(1);
    const failed = { method: 'POST', route: '/documents', status: '422' };
    expect(valueOf(refused, 'docsvc_http_request_duration_seconds_count', failed)).toBe(1);
  });

  it('labels a request by its route pattern, never its URL', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expect((await svc.request('GET', `/documents/${id}`)).status).toBe(404);
    expect((await svc.request('GET', '/no/such/path')).status).toBe(404);
    const m = await scrape();
    const byId = { method: 'GET', route: '/documents/:id', status: '404' };
    expect(valueOf(m, 'docsvc_http_request_duration_seconds_count', byId)).toBe(1);
    expect(
      valueOf(m, 'docsvc_http_request_duration_seconds_count', { route: 'unmatched', status: '404' }),
    ).toBe(1);
    expect(m.samples.some((s) => s.labels.route?.includes(id))).toBe(false);
  });

  it('counts searches by mode, embeddings after projection, and projections at their position', async () => {
    const before = await scrape();
    const written = await svc.request('POST', '/documents', {
      json: doc('Creatine', '# Creatine\n\nCreatine monohydrate raises phosphocreatine stores.'),
    });
    expect(written.status).toBe(201);
    const search = (mode: string) =>
      svc.request('POST', '/search', {
        json: { coachId: 'carnivore', query: 'creatine stores', mode, minPosition: written.body.position },
      });
    expect((await search('text')).status).toBe(200);
    expect((await search('hybrid')).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('docsvc_search_duration_seconds_count', { mode: 'text' })).toBe(1);
    expect(delta('docsvc_search_duration_seconds_count', { mode: 'hybrid' })).toBe(1);
    expect(delta('docsvc_search_duration_seconds_count', { mode: 'vector' })).toBe(0);
    expect(delta('docsvc_embedding_calls_total', { purpose: 'index', result: 'ok' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(delta('docsvc_embedding_texts_total', { purpose: 'index' })).toBeGreaterThanOrEqual(1);
    expect(delta('docsvc_embedding_calls_total', { purpose: 'query', result: 'ok' })).toBe(1);
    expect(delta('docsvc_embedding_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    const chunks = { projection: 'chunks', kind: 'async' };
    expect(valueOf(after, 'docsvc_projection_lag_events', chunks)).toBe(0);
    const seq = Number(parsePosition(written.body.position).seq);
    expect(valueOf(after, 'docsvc_projection_position', chunks)).toBeGreaterThanOrEqual(seq);
    expect(valueOf(after, 'docsvc_event_store_head_position')).toBeGreaterThanOrEqual(seq);
  });

  it('counts CSV import rows by outcome', async () => {
    const csv =
      'coach_id,title,content,document_type,access_tier\n' +
      'carnivore,Eggs,Eggs are cheap.,guide,free\n' +
      'carnivore,Bad,No tier here.,guide,\n';
    const form = new FormData();
    form.set('file', new Blob([csv]), 'rows.csv');
    const r = await svc.request('POST', '/imports/csv', { form });
    expect(r.status).toBe(200);
    const m = await scrape();
    expect(valueOf(m, 'docsvc_imports_total', { source: 'csv', outcome: 'created' })).toBe(1);
    expect(valueOf(m, 'docsvc_imports_total', { source: 'csv', outcome: 'VALIDATION_FAILED' })).toBe(1);
  });

  it('keeps one registry per application: work on one service does not move the other', async () => {
    const before = await scrape(other);
    expect(
      (await svc.request('POST', '/documents', { json: doc('Salt', 'Salt and electrolytes.') })).status,
    ).toBe(201);
    const after = await scrape(other);
    expect(valueOf(after, 'docsvc_events_appended_total')).toBe(
      valueOf(before, 'docsvc_events_appended_total'),
    );
    expect(valueOf(after, 'docsvc_http_request_duration_seconds_count', { route: '/documents' })).toBe(0);
  });
});
