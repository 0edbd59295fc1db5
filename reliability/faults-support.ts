/**
 * What the fault checks share (reliability/faults.ts, test/e2e/faults.test.ts): the docsvc CLI and service as
 * child processes (built, or from the sources through tsx), fresh databases on a PostgreSQL server, a private
 * PostgreSQL cluster that may be stopped and started, a generated folder of Markdown documents, an
 * OpenAI-compatible embeddings stand-in that can fail, and the read-side checks (duplicates, digests, catch-up)
 * made on the database itself.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const note = (s: string): void =>
  void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** How to run `docsvc`: the build (`node dist/src/main.js`) or the sources through tsx (tests: no build needed). */
export type CliRunner = string[];
export const builtCli: CliRunner = [process.execPath, join(ROOT, 'dist/src/main.js')];
export const sourceCli: CliRunner = [process.execPath, '--import', 'tsx', join(ROOT, 'src/main.ts')];

export const ADMIN_KEY = `faults-admin-${randomBytes(8).toString('hex')}`;

/** Environment every child gets: no key file written into the repository, quiet logs, a private DATA_DIR. */
export function baseEnv(dataDir: string): Record<string, string> {
  return {
    ADMIN_API_KEY: ADMIN_KEY,
    DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'log',
    RATE_LIMIT_PER_MINUTE: '1000000',
    MAINTENANCE_ENABLED: 'false',
    URL_REFRESH_ENABLED: 'false',
  };
}

export interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null after a signal) once the pipes are drained. */
  closed: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnCli(cli: CliRunner, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cli[0]!, [...cli.slice(1), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = {
    child,
    stdout: '',
    stderr: '',
    closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return proc.closed;
    },
  };
  child.stdout!.on('data', (c: Buffer) => (proc.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (proc.stderr += c.toString()));
  return proc;
}

export async function runCli(
  cli: CliRunner,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(cli, args, env);
  const code = await p.closed;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

export interface Service extends Proc {
  base: string;
  port: number;
}

/** `docsvc serve` on PORT=0; resolves once it logs its port (rejects with its output if it exits first). */
export async function startServe(
  cli: CliRunner,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<Service> {
  const p = spawnCli(cli, ['serve'], { PORT: '0', HOST: '127.0.0.1', ...env });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not listen in time: ${p.stdout.slice(-2000)}`)),
      timeoutMs,
    );
    const look = () => {
      const m = /listening on port (\d+)/.exec(p.stdout);
      if (m) {
        clearTimeout(timer);
        p.child.stdout!.off('data', look);
        resolve(Number(m[1]));
      }
    };
    p.child.stdout!.on('data', look);
    p.closed.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `serve exited (${code}) before listening: ${p.stdout.slice(-2000)} ${p.stderr.slice(-2000)}`,
        ),
      );
    });
  });
  // Output is kept only as a tail: a long run logs a lot.
  p.child.stdout!.on('data', () => (p.stdout = p.stdout.slice(-200_000)));
  return Object.assign(p, { port, base: `http://127.0.0.1:${port}` });
}

/** Polls a condition of the system (database rows, a process's output), never a clock standing in for it. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Databases

export interface Database {
  url: string;
  name: string;
  pool: pg.Pool;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>;
  drop(): Promise<void>;
}

/** A new database on the server `serverUrl` names (never that server's own databases); migrated by `docsvc migrate`. */
export async function freshDatabase(
  serverUrl: string,
  cli: CliRunner,
  env: Record<string, string>,
): Promise<Database> {
  const name = `docsvc_faults_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const migrated = await runCli(cli, ['migrate'], { ...env, DATABASE_URL: url.toString() });
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    name,
    pool,
    query: async (text, params) => (await pool.query(text, params)).rows,
    async drop() {
      await pool.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// A private PostgreSQL cluster (scenario c): its own data directory and port, stopped and started at will.

export interface Cluster {
  port: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

function sh(cmd: string, args: string[]): Promise<string> {
  // As root, PostgreSQL's tools refuse to run: they run as the postgres user, who owns the directory.
  const [file, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) =>
    execFile(file, argv, { timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(' ')}: ${error.message} ${stderr}`)) : resolve(stdout),
    ),
  );
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function privateCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'docsvc-faults-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await sh(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=60`;
  const start = () =>
    sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', 'start']);
  await start();
  return {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => void (await sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])),
    start: async () => void (await start()),
    async destroy() {
      await sh(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user to run the private cluster as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

// ---------------------------------------------------------------------------------------------------------
// A folder of documents

const WORDS = (
  'protein creatine sleep recovery magnesium insulin glucose ketone fasting muscle strength endurance collagen ' +
  'liver eggs sodium potassium hydration fiber omega fatty acid vitamin zinc iron thyroid cortisol leucine ' +
  'glycogen electrolytes carbohydrate satiety appetite ghrelin leptin mitochondria oxidation training volume'
).split(' ');

export interface Library {
  root: string;
  /** Relative paths, in the order written, and the SHA-256 of each file's bytes. */
  files: Array<{ path: string; sha256: string }>;
  remove(): void;
}

/**
 * `count` Markdown documents, every one different (a marker per file and section), about 3 KB each (six
 * sections: six chunks), spread over ten sub-folders.
 */
export function generateLibrary(count: number, seed = 1): Library {
  const root = mkdtempSync(join(tmpdir(), 'docsvc-faults-lib-'));
  const files: Library['files'] = [];
  let state = seed >>> 0 || 1;
  const rnd = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  for (let i = 0; i < count; i++) {
    const path = `shelf-${i % 10}/note-${String(i).padStart(5, '0')}.md`;
    let text = `# Coaching note ${i}\n\n`;
    for (let s = 0; s < 6; s++) {
      text += `## Section ${s} of note ${i}\n\n`;
      for (let w = 0; w < 70; w++)
        text += WORDS[Math.floor(rnd() * WORDS.length)] + (w % 11 === 10 ? '. ' : ' ');
      text += `marker-${seed}-${i}-${s}.\n\n`;
    }
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    files.push({ path, sha256: createHash('sha256').update(text).digest('hex') });
  }
  return { root, files, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A JSON upload body for the service: unique text (the marker) in a few sections. */
export function uploadBody(coachId: string, marker: string): Record<string, unknown> {
  let content = `# Note ${marker}\n\n`;
  for (let s = 0; s < 3; s++) {
    content += `## Part ${s}\n\n`;
    for (let w = 0; w < 60; w++) content += WORDS[(marker.length * 7 + s * 13 + w * w) % WORDS.length] + ' ';
    content += `${marker}-${s}.\n\n`;
  }
  return {
    coachId,
    title: `Note ${marker}`,
    format: 'markdown',
    content,
    metadata: { documentType: 'guide', tags: ['faults'], accessTier: 'free' },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Read-side checks, on the database itself

/** The chunks projection is live and its checkpoint has passed every committed event. */
export async function chunksCaughtUp(db: Database): Promise<boolean> {
  const [row] = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM projection_checkpoints c WHERE c.name = 'chunks' AND c.status = 'live'
              AND c.rebuild_requested_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM events e
                              WHERE (e.transaction_id, e.global_position) > (c.position_tx, c.position_seq))) AS ok`,
  );
  return row!.ok;
}

export interface ChunkAnomalies {
  /** Rows sharing (space, chunker, document, version, index): the table's unique key forbids them. */
  sameKey: number;
  /** Two chunks of one version over the same text range (the same chunk written twice under two indexes). */
  sameRange: number;
  /** Versions whose chunk indexes are not 0..n-1. */
  gappedVersions: number;
  /** Documents with current chunks of more than one version. */
  mixedCurrent: number;
  /** Active documents (of `coachId`, or all) whose current version has no current chunk. */
  activeWithoutChunks: number;
  /** Current chunks of a version that is not its document's current one, or of a document not active. */
  staleCurrent: number;
  deadLetters: number;
}

export async function chunkAnomalies(db: Database, coachId?: string): Promise<ChunkAnomalies> {
  const coach = coachId ? `AND coach_id = '${coachId.replace(/'/g, "''")}'` : '';
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql))[0]!.n);
  return {
    sameKey: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version, chunk_index HAVING count(*) > 1) x`),
    sameRange: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version, start_char, end_char HAVING count(*) > 1) x`),
    gappedVersions: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE true ${coach}
      GROUP BY space, chunker, document_id, version
      HAVING count(*) <> max(chunk_index) + 1 OR min(chunk_index) <> 0) x`),
    mixedCurrent: await count(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks WHERE is_current ${coach}
      GROUP BY space, chunker, document_id HAVING count(DISTINCT version) > 1) x`),
    activeWithoutChunks: await count(`SELECT count(*) AS n FROM documents d WHERE d.status = 'active' ${coach}
      AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.document_id AND c.version = d.version
                      AND c.is_current)`),
    staleCurrent:
      await count(`SELECT count(*) AS n FROM chunks c WHERE c.is_current ${coach.replace('coach_id', 'c.coach_id')}
      AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.document_id = c.document_id AND d.version = c.version
                      AND d.status = 'active')`),
    deadLetters: await count(`SELECT count(*) AS n FROM projection_dead_letters`),
  };
}

export const anomalyTotal = (a: ChunkAnomalies): number => Object.values(a).reduce((s, n) => s + n, 0);

/**
 * Digests of the read models, row by row in a fixed order, without what a rebuild may renumber (chunk ids):
 * two equal digests are two equal read models.
 */
export async function readModelDigests(db: Database): Promise<Record<string, string>> {
  const digest = async (sql: string) => (await db.query<{ d: string | null }>(sql))[0]!.d ?? 'empty';
  return {
    documents: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t.document_id)) AS d FROM documents t`,
    ),
    document_versions: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t.document_id, t.version)) AS d FROM document_versions t`,
    ),
    chunks: await digest(
      `SELECT md5(string_agg(concat_ws(',', space, chunker, document_id, version, chunk_index, coach_id, md5(title),
         md5(content), start_char, end_char, section, page, access_tier, document_type, tags::text, publication_date,
         metadata::text, embedded_sha256, valid_from, valid_from_at, valid_to, valid_to_at, is_current,
         md5(embedding::text)), '|' ORDER BY space, chunker, document_id, version, chunk_index)) AS d FROM chunks`,
    ),
    chunk_stats: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY space, chunker, coach_id, access_tier)) AS d FROM chunk_stats t`,
    ),
    chunk_lexemes: await digest(
      `SELECT md5(string_agg(t::text, '|' ORDER BY space, chunker, coach_id, lexeme, access_tier)) AS d
       FROM chunk_lexemes t WHERE df > 0`,
    ),
  };
}

/** Each document's current chunks as `path|index|content hash|vector hash`, sorted: comparable across coaches. */
export async function chunksByPath(db: Database, coachId: string): Promise<string[]> {
  const rows = await db.query<{ line: string }>(
    `SELECT d.source_path || '|' || c.chunk_index || '|' || md5(c.content) || '|' || md5(c.embedding::text) AS line
     FROM chunks c JOIN documents d ON d.document_id = c.document_id
     WHERE c.is_current AND d.coach_id = $1 ORDER BY 1`,
    [coachId],
  );
  return rows.map((r) => r.line);
}

/** The items of `a` missing from `b`, as a count (multisets). */
export function missingFrom(a: readonly string[], b: readonly string[]): number {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  let missing = 0;
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n === 0) missing++;
    else left.set(x, n - 1);
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------------------
// An OpenAI-compatible embeddings stand-in

export type ProviderMode = 'ok' | 'fail500' | 'fail429' | 'hang';

/**
 * Speaks OpenAI's `POST /v1/embeddings`; vectors are hashed bags of words (deterministic, related texts close).
 * Its mode says how it answers: `ok`, `500`, `429` (Retry-After: 1), or `hang` (headers never sent; the held
 * requests are cut when the mode changes, as a provider that comes back does with its stuck connections).
 */
export class FakeEmbeddings {
  mode: ProviderMode = 'ok';
  readonly answered: Record<ProviderMode, number> = { ok: 0, fail500: 0, fail429: 0, hang: 0 };
  /** Texts embedded successfully (a chunk's text and a query's). */
  embeddedTexts = 0;
  private server!: Server;
  private held: ServerResponse[] = [];
  /** Called on each request before it is answered (tests move the mode on a count of requests). */
  onRequest: ((mode: ProviderMode) => void) | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
  }

  setMode(mode: ProviderMode): void {
    this.mode = mode;
    if (mode !== 'hang') {
      for (const res of this.held) res.destroy();
      this.held = [];
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      this.onRequest?.(this.mode);
      const mode = this.mode;
      this.answered[mode]++;
      if (mode === 'hang') return void this.held.push(res);
      if (mode === 'fail500' || mode === 'fail429') {
        const status = mode === 'fail500' ? 500 : 429;
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(status === 429 ? { 'retry-after': '1' } : {}),
        });
        return void res.end(JSON.stringify({ error: { message: `fake ${status}`, type: 'server_error' } }));
      }
      const parsed = JSON.parse(body) as { input: string[]; model: string; dimensions?: number };
      this.embeddedTexts += parsed.input.length;
      const data = parsed.input.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: bagOfWords(text, parsed.dimensions ?? 64),
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data,
          model: parsed.model,
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    });
  }

  close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held = [];
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function bagOfWords(text: string, dims: number): number[] {
  const v: number[] = Array.from({ length: dims }, () => 0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    v[createHash('sha256').update(word).digest().readUInt32LE(0) % dims]! += 1;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1;
  return v;
}

export const EMBEDDINGS_ENV = (baseUrl: string): Record<string, string> => ({
  EMBEDDINGS_PROVIDER: 'openai',
  OPENAI_BASE_URL: baseUrl,
  OPENAI_API_KEY: 'sk-faults-0123456789',
  EMBEDDINGS_MODEL: 'fake-embed',
  EMBEDDINGS_DIMENSIONS: '64',
});

// ---------------------------------------------------------------------------------------------------------
// HTTP

export interface Answer {
  status: number;
  ms: number;
  body: Record<string, unknown> | undefined;
  /** The request did not get an answer (network error or our own timeout). */
  error?: string;
}

/** One request with its own deadline (a hang shows as an error after `timeoutMs`, never as a stuck check). */
export async function call(
  base: string,
  method: string,
  path: string,
  json?: unknown,
  timeoutMs = 15_000,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(json ? { 'content-type': 'application/json' } : {}),
      },
      body: json ? JSON.stringify(json) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    return { status: res.status, ms: performance.now() - started, body };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, body: undefined, error: (error as Error).message };
  }
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
