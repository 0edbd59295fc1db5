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
  return new MixedLoad(o).run();
}

const unclear = (status: number | 'network') => status === 'network' || status >= 500;

class MixedLoad {
  private readonly mix: NonNullable<MixedOptions['mix']>;
  private readonly docs = new Map<string, Known>();
  private readonly ids: string[] = [];
  private readonly result: MixedResult = {
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
  private readonly started = Date.now();
  private issued = 0;

  constructor(private readonly o: MixedOptions) {
    this.mix = o.mix ?? { upload: 0.25, edit: 0.25, search: 0.5 };
  }

  async run(): Promise<MixedResult> {
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.worker()));
    this.result.seconds = (Date.now() - this.started) / 1000;
    return this.result;
  }

  private more(): boolean {
    const { operations, until } = this.o;
    return (
      (operations === undefined || this.issued < operations) && (until === undefined || Date.now() < until)
    );
  }

  private async worker(): Promise<void> {
    const { mix } = this;
    while (this.more()) {
      await this.pace(this.issued++);
      if (this.o.until !== undefined && Date.now() >= this.o.until) return;
      const roll = Math.random() * (mix.upload + mix.edit + mix.search);
      if (roll < mix.search) await this.search();
      else if (roll < mix.search + mix.edit) {
        const free = this.ids.length > 0 ? this.pickFree() : undefined;
        await (free ? this.edit(free) : this.upload());
      } else await this.upload();
    }
  }

  /** Operation n goes out no sooner than its turn at `rate` a second. */
  private async pace(n: number): Promise<void> {
    if (!this.o.rate) return;
    const at = this.started + (n * 1000) / this.o.rate;
    if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
  }

  private pickFree(): string | undefined {
    for (let tries = 0; tries < 8; tries++) {
      const id = pick(this.ids);
      if (!this.docs.get(id)!.busy) return id;
    }
    return undefined;
  }

  private async call(method: string, path: string, key: string, body: unknown, headers = {}) {
    const t0 = performance.now();
    try {
      const res = await fetch(this.o.base + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
      const textBody = await res.text();
      return { status: res.status as number | 'network', text: textBody, ms: performance.now() - t0 };
    } catch (error) {
      return { status: 'network' as const, text: String(error), ms: performance.now() - t0 };
    }
  }

  private fail(f: Failure, mayHaveCommitted: boolean): void {
    this.result.failures.push({ ...f, body: f.body.slice(0, 300) });
    if (mayHaveCommitted && f.documentId) this.result.uncertain.push(f.documentId);
  }

  private async upload(): Promise<void> {
    const marker = newMarker();
    const r = await this.call('POST', '/documents', this.o.editorKey, {
      coachId: this.o.coachId,
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
    this.result.writeLatencies.push(r.ms);
    if (r.status !== 201) {
      if (unclear(r.status)) this.result.uncertainUploads++;
      return this.fail({ op: 'upload', status: r.status, body: r.text }, false);
    }
    const b = JSON.parse(r.text) as { documentId: string; version: number; position: string };
    this.result.acks.push({
      kind: 'upload',
      documentId: b.documentId,
      version: b.version,
      position: b.position,
      marker,
    });
    if (b.version !== 1)
      this.fail(
        { op: 'upload', status: r.status, body: `version ${b.version}`, documentId: b.documentId },
        false,
      );
    this.docs.set(b.documentId, { version: b.version, marker, busy: false });
    this.ids.push(b.documentId);
  }

  private async edit(id: string): Promise<void> {
    const known = this.docs.get(id)!;
    known.busy = true;
    const marker = newMarker();
    const body = { content: text(marker), changeSummary: `load edit ${marker}` };
    const r = await this.call('PATCH', `/documents/${id}`, this.o.editorKey, body, {
      'if-match': `"${known.version}"`,
    });
    this.result.writeLatencies.push(r.ms);
    if (r.status !== 200) {
      // The edit held the document: a 412 here is a lost or phantom write of ours, not a race of clients.
      this.fail({ op: 'edit', status: r.status, body: r.text, documentId: id }, unclear(r.status));
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
    this.result.acks.push({ kind: 'edit', documentId: id, version: b.version, position: b.position, marker });
    if (b.version !== known.version + 1 || !b.changed || b.documentId !== id) {
      const expected = `expected version ${known.version + 1}: ${r.text}`;
      this.fail({ op: 'edit', status: 200, body: expected, documentId: id }, false);
    }
    Object.assign(known, { version: b.version, marker, busy: false });
  }

  private async search(): Promise<void> {
    const body = searchBody(this.o.coachId);
    // Now and then the marker of a recent write, in text mode: the word exists in exactly one document.
    if (this.ids.length > 0 && Math.random() < 0.1) {
      Object.assign(body, { query: this.docs.get(pick(this.ids.slice(-50)))!.marker, mode: 'text' });
      delete body.filters;
    }
    const r = await this.call('POST', '/search', pick(this.o.searchKeys), body);
    this.result.searches++;
    this.result.searchLatencies.push(r.ms);
    if (r.status !== 200) this.fail({ op: 'search', status: r.status, body: r.text }, false);
  }
}
