/**
 * `mixedLoad` (reliability/load.ts, reliability/soak.ts, test/e2e/mixed-load.test.ts): uploads (JSON text, a unique
 * marker word each), edits (PATCH with If-Match, a new marker) and searches at once, `concurrency` at a time, bounded
 * by a deadline or by a number of operations, optionally paced to a rate; every acknowledged write is recorded
 * (documentId, version, position, marker) for reliability/support/verify-writes.ts.
 */
import { TOPICS } from '../../bench/corpus.js';
import { between, newMarker, pick, searchBody, text } from './workload.js';

export interface Ack {
  kind: 'upload' | 'edit';
  documentId: string;
  version: number;
  position: string;
  marker: string;
}

export interface Failure {
  op: 'upload' | 'edit' | 'search';
  status: number | 'network';
  body: string;
  documentId?: string;
}

export interface MixedOptions {
  base: string;
  coachId: string;
  editorKey: string;
  /** Keys searches go out with, picked at random per search. */
  searchKeys: string[];
  concurrency: number;
  /** Stop starting operations at this time (epoch ms)… */
  until?: number;
  /** …or after this many operations. */
  operations?: number;
  /** Shares of the operations (edits fall back to uploads while no document is free to edit). */
  mix?: { upload: number; edit: number; search: number };
  /** Operations per second over all workers; 0 = as fast as the service answers. */
  rate?: number;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

export interface MixedResult {
  acks: Ack[];
  failures: Failure[];
  /** Documents a write of which failed without a clear refusal (network, 5xx): it may have committed. */
  uncertain: string[];
  /** Uploads that failed without a clear refusal: each may have committed (a document nobody was told of). */
  uncertainUploads: number;
  /** When the first operation went out (ISO). */
  startedAt: string;
  searches: number;
  searchLatencies: number[];
  writeLatencies: number[];
  seconds: number;
}

interface Known {
  version: number;
  marker: string;
  busy: boolean;
}

/** Runs the mixed load; never throws for an answer, records it as a failure instead. */
export async function mixedLoad(o: MixedOptions): Promise<MixedResult> {
  const mix = o.mix ?? { upload: 0.25, edit: 0.25, search: 0.5 };
  const total = mix.upload + mix.edit + mix.search;
  const docs = new Map<string, Known>();
  const ids: string[] = [];
  const result: MixedResult = {
    acks: [],
    failures: [],
    uncertain: [],
    uncertainUploads: 0,
    startedAt: new Date().toISOString(),
    searches: 0,
    searchLatencies: [],
    writeLatencies: [],
    seconds: 0,
  };
  const started = Date.now();
  let issued = 0;
  const more = () =>
    (o.operations === undefined || issued < o.operations) && (o.until === undefined || Date.now() < o.until);

  const call = async (method: string, path: string, key: string, body: unknown, headers = {}) => {
    const t0 = performance.now();
    try {
      const res = await fetch(o.base + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      });
      const textBody = await res.text();
      return { status: res.status as number | 'network', text: textBody, ms: performance.now() - t0 };
    } catch (error) {
      return { status: 'network' as const, text: String(error), ms: performance.now() - t0 };
    }
  };
  const fail = (f: Failure, mayHaveCommitted: boolean) => {
    result.failures.push({ ...f, body: f.body.slice(0, 300) });
    if (mayHaveCommitted && f.documentId) result.uncertain.push(f.documentId);
  };
  const unclear = (status: number | 'network') => status === 'network' || status >= 500;

  const upload = async () => {
    const marker = newMarker();
    const r = await call('POST', '/documents', o.editorKey, {
      coachId: o.coachId,
      title: `Load ${marker}`,
      format: 'markdown',
      content: text(marker),
      metadata: {
        documentType: pick(['guide', 'research']),
        tags: [`topic-${between(0, TOPICS.length - 1)}`, 'load'],
        accessTier: pick(['free', 'premium']),
        publicationDate: `20${between(10, 25)}-0${between(1, 9)}-1${between(0, 9)}`,
      },
    });
    result.writeLatencies.push(r.ms);
    if (r.status !== 201) {
      if (unclear(r.status)) result.uncertainUploads++;
      return fail({ op: 'upload', status: r.status, body: r.text }, false);
    }
    const b = JSON.parse(r.text) as { documentId: string; version: number; position: string };
    result.acks.push({
      kind: 'upload',
      documentId: b.documentId,
      version: b.version,
      position: b.position,
      marker,
    });
    if (b.version !== 1)
      fail({ op: 'upload', status: r.status, body: `version ${b.version}`, documentId: b.documentId }, false);
    docs.set(b.documentId, { version: b.version, marker, busy: false });
    ids.push(b.documentId);
  };

  const edit = async (id: string) => {
    const known = docs.get(id)!;
    known.busy = true;
    const marker = newMarker();
    const r = await call(
      'PATCH',
      `/documents/${id}`,
      o.editorKey,
      { content: text(marker), changeSummary: `load edit ${marker}` },
      { 'if-match': `"${known.version}"` },
    );
    result.writeLatencies.push(r.ms);
    if (r.status !== 200) {
      // The edit held the document: a 412 here is a lost or phantom write of ours, not a race of clients.
      fail({ op: 'edit', status: r.status, body: r.text, documentId: id }, unclear(r.status));
      // An unclear edit leaves the document's version unknown: it is not edited again.
      if (!unclear(r.status)) known.busy = false;
      return;
    }
    const b = JSON.parse(r.text) as {
      documentId: string;
      version: number;
      position: string;
      changed: boolean;
    };
    result.acks.push({ kind: 'edit', documentId: id, version: b.version, position: b.position, marker });
    if (b.version !== known.version + 1 || !b.changed || b.documentId !== id)
      fail(
        { op: 'edit', status: 200, body: `expected version ${known.version + 1}: ${r.text}`, documentId: id },
        false,
      );
    Object.assign(known, { version: b.version, marker, busy: false });
  };

  const search = async () => {
    const body = searchBody(o.coachId);
    // Now and then the marker of a recent write, in text mode: the word exists in exactly one document.
    if (ids.length > 0 && Math.random() < 0.1) {
      Object.assign(body, { query: docs.get(pick(ids.slice(-50)))!.marker, mode: 'text' });
      delete body.filters;
    }
    const r = await call('POST', '/search', pick(o.searchKeys), body);
    result.searches++;
    result.searchLatencies.push(r.ms);
    if (r.status !== 200) fail({ op: 'search', status: r.status, body: r.text }, false);
  };

  const pace = async (n: number) => {
    if (!o.rate) return;
    const at = started + (n * 1000) / o.rate;
    if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
  };

  const worker = async () => {
    while (more()) {
      const n = issued++;
      await pace(n);
      if (o.until !== undefined && Date.now() >= o.until) return;
      const roll = Math.random() * total;
      if (roll < mix.search) await search();
      else if (roll < mix.search + mix.edit) {
        const free = ids.length > 0 ? pickFree() : undefined;
        await (free ? edit(free) : upload());
      } else await upload();
    }
  };
  const pickFree = (): string | undefined => {
    for (let tries = 0; tries < 8; tries++) {
      const id = pick(ids);
      if (!docs.get(id)!.busy) return id;
    }
    return undefined;
  };

  await Promise.all(Array.from({ length: o.concurrency }, worker));
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
