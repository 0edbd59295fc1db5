/**
 * `tsx reliability/memory.ts [--corpus ../shared/corpus] [--rounds 4] [--limit-mb 1024] [--only <words>]`: the
 * embedded service's resident memory under hostile and large uploads (issue 17, "Memory"), sampled every 250 ms
 * from /proc; `--only` runs only the phases whose name holds the words (one phase on a fresh service: a diagnosis).
 *
 * Phases, each with 3 uploads at once: a 49 MB text file (refused: TEXT_TOO_LARGE), text files of just under
 * MAX_CONTENT_CHARS (accepted), hostile files (a Flate-bomb PDF, a zip-bomb DOCX) beside the largest real PDFs of
 * the corpus. During each phase an oversize upload (declared 60 MB) is sent and the time to its refusal measured.
 * Holds when the peak stays under --limit-mb, every oversize refusal comes in under a second, and no answer is 500.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, listeningPort } from '../bench/support.js';
import { MAX_CONTENT_CHARS } from '../src/domain/schemas.js';
import { flateBombPdf } from '../test/fixtures/extraction/pdf.js';
import { deflatedZeros, docxWith } from '../test/fixtures/extraction/zip.js';
import { spawnServe } from './support/service.js';

const KEY = 'reliability-memory-key-0123456789';
const corpus = resolve(arg('corpus', join(import.meta.dirname, '../../shared/corpus')));
const rounds = Number(arg('rounds', '4'));
const limitMb = Number(arg('limit-mb', '1024'));
/** Only the phases whose name holds this (a diagnosis of one phase on a fresh service). */
const only = arg('only', '');

interface Upload {
  name: string;
  bytes: Buffer;
}

function text(chars: number, seed: string): Buffer {
  const words = ['protein', 'satiety', 'fibre', 'glycaemic', 'ketosis', 'micronutrient', 'insulin', seed];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length]!;
    const piece = i % 40 === 39 ? `${w}.\n\n` : `${w} `;
    parts.push(piece);
    length += piece.length;
  }
  return Buffer.from(parts.join('').slice(0, chars));
}

/** Largest real PDFs and DOCX of the corpus (by size), to stand beside the bombs. */
function corpusFiles(count: number): Upload[] {
  const files = ['pdf', 'docx'].flatMap((dir) =>
    readdirSync(join(corpus, dir)).map((f) => join(corpus, dir, f)),
  );
  return files
    .sort((a, b) => statSync(b).size - statSync(a).size)
    .slice(0, count)
    .map((f) => ({ name: f.split('/').pop()!, bytes: readFileSync(f) }));
}

function post(port: number, upload: Upload): Promise<{ status: number; code?: string; ms: number }> {
  const form = new FormData();
  form.set('coachId', 'carnivore');
  form.set('metadata', JSON.stringify({ documentType: 'research', accessTier: 'free' }));
  form.set('file', new Blob([upload.bytes]), upload.name);
  const started = performance.now();
  return fetch(`http://127.0.0.1:${port}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
    body: form,
  }).then(async (res) => {
    const body = (await res.json()) as { code?: string };
    return { status: res.status, code: body.code, ms: performance.now() - started };
  });
}

/** An upload that declares 60 MB and sends its first bytes only: refused from its Content-Length. */
function oversize(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/documents',
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': 60 * 1024 * 1024,
        },
      },
      (res) => {
        res.resume();
        const ms = performance.now() - started;
        req.destroy();
        if (res.statusCode === 413) done(ms);
        else fail(new Error(`oversize upload answered ${res.statusCode}`));
      },
    );
    req.on('error', () => undefined);
    req.write('--x\r\n');
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-memory-'));
  const child: ChildProcess = spawnServe(
    {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'log',
      API_KEYS: JSON.stringify([{ key: KEY, role: 'admin', coaches: ['*'] }]),
    },
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await listeningPort(child);
  let peak = rssMb(child.pid!);
  const idle = peak;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 250);
  const bombs: Upload[] = [
    { name: 'bomb.pdf', bytes: await flateBombPdf(1024) },
    { name: 'bomb.docx', bytes: docxWith({ name: 'word/document.xml', deflated: await deflatedZeros(300) }) },
  ];
  const phases: Array<{ name: string; uploads: (round: number) => Upload[] }> = [
    {
      name: '49 MB text',
      uploads: () => [0, 1, 2].map((i) => ({ name: `big${i}.txt`, bytes: text(49e6, `b${i}`) })),
    },
    {
      name: `text of ${MAX_CONTENT_CHARS - 1000} characters`,
      uploads: (r: number) =>
        [0, 1, 2].map((i) => ({
          name: `max${r}-${i}.txt`,
          bytes: text(MAX_CONTENT_CHARS - 1000, `m${r}x${i}`),
        })),
    },
    { name: 'hostile and large real files', uploads: () => [...bombs, ...corpusFiles(4)] },
  ].filter((p) => p.name.includes(only));
  const report: Record<string, unknown> = { idleMb: Math.round(idle) };
  const refusals: number[] = [];
  let errors = 0;
  try {
    for (const phase of phases) {
      peak = rssMb(child.pid!);
      const statuses: Record<string, number> = {};
      for (let r = 0; r < rounds; r++) {
        const uploads = phase.uploads(r);
        const answers: Array<{ status: number; code?: string }> = [];
        // Three at a time, and an oversize upload in the middle of them.
        for (let i = 0; i < uploads.length; i += 3) {
          const batch = uploads.slice(i, i + 3).map((u) => post(port, u));
          refusals.push(await oversize(port));
          answers.push(...(await Promise.all(batch)));
        }
        for (const a of answers)
          statuses[`${a.status} ${a.code ?? ''}`.trim()] =
            (statuses[`${a.status} ${a.code ?? ''}`.trim()] ?? 0) + 1;
        errors += answers.filter((a) => a.status >= 500 && a.code !== 'SERVER_BUSY').length;
      }
      report[phase.name] = { peakMb: Math.round(peak), answers: statuses };
      console.error(`${phase.name}: peak ${Math.round(peak)} MB, answers ${JSON.stringify(statuses)}`);
    }
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
  const peakMb = Math.max(...phases.map((p) => (report[p.name] as { peakMb: number }).peakMb));
  const slowestRefusalMs = Math.round(Math.max(...refusals));
  Object.assign(report, { peakMb, limitMb, slowestRefusalMs, refusals: refusals.length, errors });
  console.log(`RESULT ${JSON.stringify(report)}`);
  process.exitCode = peakMb < limitMb && slowestRefusalMs < 1000 && errors === 0 ? 0 : 1;
}

await main();
