/**
 * What the load and soak checks share (reliability/load.ts, reliability/soak.ts, test/e2e/mixed-load.test.ts):
 * - `mixedLoad`: uploads (JSON text, a unique marker word each), edits (PATCH with If-Match, a new marker) and
 *   searches at once, `concurrency` at a time, bounded by a deadline or by a number of operations, optionally
 *   paced to a rate; every acknowledged write is recorded (documentId, version, position, marker).
 * - `verifyWrites`: reads the database itself afterwards: every acknowledged write is in the event log exactly once
 *   (its stream, its version, its position), no stream holds an event nobody acknowledged, the coach got no upload
 *   since the run began beyond those acknowledged, the documents read model holds the last acknowledged version and
 *   its marker, and the current chunks are not duplicated and belong to that version.
 * - the built service as a child process, and waiting for its projectors to catch up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
export { arg } from '../bench/support.js';
import { phrase, TOPICS } from '../bench/corpus.js';
import type { SqlExecutor } from '../src/infrastructure/sql/sql-client.js';

export const note = (s: string): void =>
  void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Keys of the checks' services: one admin (waits, projections), one editor and two readers of the coaches. */
export const LOAD_KEYS = {
  admin: `load-admin-${randomBytes(8).toString('hex')}`,
  editor: `load-editor-${randomBytes(8).toString('hex')}`,
  premium: `load-premium-${randomBytes(8).toString('hex')}`,
  free: `load-free-${randomBytes(8).toString('hex')}`,
};

export function loadApiKeys(coaches: string[]): string {
  return JSON.stringify([
    { key: LOAD_KEYS.admin, role: 'admin', coaches: ['*'] },
    { key: LOAD_KEYS.editor, role: 'editor', coaches },
    { key: LOAD_KEYS.premium, role: 'reader', coaches, tier: 'premium' },
    { key: LOAD_KEYS.free, role: 'reader', coaches, tier: 'free' },
  ]);
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** A realistic search body: 2–6 words of one topic, mostly hybrid, k 5–20, a filter on about a third. */
export function searchBody(coachId: string): Record<string, unknown> {
  const topic = Math.floor(Math.random() * TOPICS.length);
  const body: Record<string, unknown> = {
    coachId,
    query: phrase(TOPICS[topic]!, between(2, 6)),
    k: pick([5, 10, 10, 10, 20]),
  };
  const mode = Math.random();
  if (mode < 0.15) body.mode = 'vector';
  else if (mode < 0.3) body.mode = 'text';
  const filter = Math.random();
  if (filter < 0.1) body.filters = { tags: [`topic-${topic}`] };
  else if (filter < 0.2) body.filters = { documentTypes: ['guide'] };
  else if (filter < 0.3) body.filters = { accessTier: 'free' };
  else if (filter < 0.35) body.filters = { publishedAfter: '2020-01-01' };
  return body;
}

/** A unique word: BM25 finds it, and the read model's text shows which write it came from. */
const newMarker = () => `mk${randomBytes(6).toString('hex')}`;

/** Markdown of 1–8 chunks: a few sections of one topic's words, with the marker in the first paragraph. */
function text(marker: string): string {
  const topic = pick(TOPICS);
  const parts = [`# ${phrase(topic, 4)}`, `Marker ${marker}. ${phrase(topic, between(10, 30))}.`];
  for (let s = between(0, 5); s > 0; s--) {
    parts.push(`## ${phrase(topic, 3)}`);
    for (let p = between(1, 3); p > 0; p--) parts.push(`${phrase(topic, between(30, 120))}.`);
  }
  return `${parts.join('\n\n')}\n`;
}

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

export interface Verification {
  acknowledged: number;
  uploads: number;
  edits: number;
  /** Acknowledged writes without their event (stream, version) in the log, or with another position or type. */
  lost: number;
  /**
   * Events in the acknowledged documents' streams that no acknowledgement accounts for, plus uploads of the coach
   * since the run began beyond those acknowledged (a document created twice, or never acknowledged).
   */
  duplicated: number;
  /** Of `duplicated`: the uploads beyond those acknowledged. */
  unacknowledgedUploads: number;
  /** Documents whose read model does not hold the last acknowledged version and its marker. */
  readModelWrong: number;
  /** Sets of current chunks with the same document, version and chunk index (over the whole table). */
  duplicateChunks: number;
  /** Acknowledged documents with current chunks of another version than the last, or without any current chunk. */
  chunksWrong: number;
  details: string[];
}

const expectedType = (a: Ack) => (a.kind === 'upload' ? 'DocumentUploaded' : 'DocumentEdited');

/** The run's uploads: the coach they went to and when the run began, with the uploads whose outcome is unknown. */
export interface UploadScope {
  coachId: string;
  startedAt: string;
  uncertainUploads: number;
}

/**
 * Checks the acknowledged writes against the database itself (after the projectors have caught up). With `scope`,
 * also counts the coach's uploads in the log since the run began against those acknowledged.
 */
export async function verifyWrites(
  sql: SqlExecutor,
  acks: Ack[],
  uncertain: string[] = [],
  scope?: UploadScope,
): Promise<Verification> {
  const v: Verification = {
    acknowledged: acks.length,
    uploads: acks.filter((a) => a.kind === 'upload').length,
    edits: acks.filter((a) => a.kind === 'edit').length,
    lost: 0,
    duplicated: 0,
    unacknowledgedUploads: 0,
    readModelWrong: 0,
    duplicateChunks: 0,
    chunksWrong: 0,
    details: [],
  };
  const detail = (s: string) => void (v.details.length < 20 && v.details.push(s));
  const byDoc = new Map<string, Ack[]>();
  for (const a of acks) byDoc.set(a.documentId, [...(byDoc.get(a.documentId) ?? []), a]);
  const ids = [...byDoc.keys()];
  const unsure = new Set(uncertain);

  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const { rows } = await sql.query<{ id: string; version: number; type: string; position: string }>(
      `SELECT substr(stream_id, 10) AS id, stream_position::int AS version, type,
              transaction_id::text || '.' || global_position::text AS position
       FROM events WHERE stream_id = ANY($1::text[])`,
      [part.map((id) => `document-${id}`)],
    );
    const events = new Map<string, Array<(typeof rows)[number]>>();
    for (const r of rows) events.set(r.id, [...(events.get(r.id) ?? []), r]);
    for (const id of part) {
      const mine = byDoc.get(id)!;
      const logged = events.get(id) ?? [];
      for (const a of mine) {
        const found = logged.filter((e) => e.version === a.version);
        if (found.length !== 1 || found[0]!.position !== a.position || found[0]!.type !== expectedType(a)) {
          v.lost++;
          detail(`lost: ${a.kind} ${id} v${a.version} at ${a.position}: log has ${JSON.stringify(found)}`);
        }
      }
      // Every version in the stream is one acknowledged write; the same version acknowledged twice is a duplicate.
      const versions = new Set(mine.map((a) => a.version));
      const extra = logged.filter((e) => !versions.has(e.version)).length + (mine.length - versions.size);
      if (extra > 0 && !unsure.has(id)) {
        v.duplicated += extra;
        detail(`duplicated: ${id}: ${logged.length} events for ${mine.length} acknowledged writes`);
      }
    }
    const docs = await sql.query<{ id: string; version: number; content: string | null; status: string }>(
      'SELECT document_id::text AS id, version, content, status FROM documents WHERE document_id = ANY($1::uuid[])',
      [part],
    );
    const read = new Map(docs.rows.map((d) => [d.id, d]));
    const chunks = await sql.query<{ id: string; version: number; n: number }>(
      `SELECT document_id::text AS id, version, count(*)::int AS n FROM chunks
       WHERE is_current AND document_id = ANY($1::uuid[]) GROUP BY 1, 2`,
      [part],
    );
    const chunkVersions = new Map<string, number[]>();
    for (const c of chunks.rows) chunkVersions.set(c.id, [...(chunkVersions.get(c.id) ?? []), c.version]);
    for (const id of part) {
      if (unsure.has(id)) continue;
      const last = byDoc.get(id)!.reduce((a, b) => (b.version > a.version ? b : a));
      const d = read.get(id);
      if (!d || d.version !== last.version || d.status !== 'active' || !d.content?.includes(last.marker)) {
        v.readModelWrong++;
        detail(
          `read model: ${id}: expected v${last.version} with ${last.marker}, has v${d?.version} ${d?.status}`,
        );
      }
      const cv = chunkVersions.get(id) ?? [];
      if (cv.length !== 1 || cv[0] !== last.version) {
        v.chunksWrong++;
        detail(
          `chunks: ${id}: expected current chunks of v${last.version} only, has versions [${cv.join(', ')}]`,
        );
      }
    }
  }
  if (scope) {
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events
       WHERE type = 'DocumentUploaded' AND data->>'coachId' = $1 AND created_at >= $2::timestamptz`,
      [scope.coachId, scope.startedAt],
    );
    const extra = rows[0]!.n - v.uploads;
    // An upload that failed unclearly may have committed: up to that many extra are not counted.
    if (extra > scope.uncertainUploads) {
      v.unacknowledgedUploads = extra - scope.uncertainUploads;
      v.duplicated += v.unacknowledgedUploads;
      detail(
        `${rows[0]!.n} uploads of ${scope.coachId} in the log since ${scope.startedAt}, ${v.uploads} acknowledged`,
      );
    }
  }
  const dup = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM chunks WHERE is_current
       GROUP BY document_id, version, chunk_index HAVING count(*) > 1) d`,
  );
  v.duplicateChunks = dup.rows[0]!.n;
  if (v.duplicateChunks > 0)
    detail(`${v.duplicateChunks} duplicated (document, version, chunk_index) among current chunks`);
  return v;
}

export const verified = (v: Verification): boolean =>
  v.lost === 0 &&
  v.duplicated === 0 &&
  v.readModelWrong === 0 &&
  v.duplicateChunks === 0 &&
  v.chunksWrong === 0;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

/**
 * The built service (`node dist/src/main.js serve`) as a child on 127.0.0.1, any free port. Its log (LOG_LEVEL
 * `log`, the default: the port is logged at that level) goes to this process's stderr once the port is known,
 * without the line per request.
 */
export async function startBuiltService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'log', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.on('data', (more: Buffer) => {
        const lines = more
          .toString()
          .split('\n')
          .filter((l) => l.trim() && !/ LOG \[http\] /.test(l));
        if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
      });
      resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`service exited ${code ?? signal}: ${out.slice(-2000)}`)),
    );
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

export function stopService(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

interface Projection {
  name: string;
  lag: number;
  status: string;
  deadLetters: unknown[];
}

/**
 * Waits until every live projection's lag is 0 and the search indexes are not waiting for a build (a deferred
 * vector index is built once the projector has caught up). Returns the dead letters seen.
 */
export async function caughtUp(base: string, adminKey: string, timeoutMs = 3_600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const res = await fetch(`${base}/admin/projections`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const list = (await res.json()) as Projection[];
    const ready = (await (await fetch(`${base}/health/ready`)).json()) as {
      checks?: { searchIndexes?: { vector?: { state?: string } } };
    };
    const vector = ready.checks?.searchIndexes?.vector?.state;
    const live = list.filter((p) => p.status !== 'retired');
    const state = `${live.map((p) => `${p.name} ${p.status} lag ${p.lag}`).join(', ')}; vector index ${vector}`;
    if (
      live.every((p) => p.lag === 0 && p.status === 'live') &&
      vector !== 'deferred' &&
      vector !== 'missing'
    )
      return list.reduce((n, p) => n + p.deadLetters.length, 0);
    if (state !== last) note(`waiting for the projectors: ${state}`);
    last = state;
    if (Date.now() > deadline) throw new Error(`projectors not caught up in ${timeoutMs} ms: ${state}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Resident memory of a process, MB (VmRSS of /proc/<pid>/status; the service's workers are its threads). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}
