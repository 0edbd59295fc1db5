/**
 * Upload latency (p50/p95) for a 1-page and a 100-page PDF, and the service's peak resident memory while a 50 MB
 * file is uploaded. Starts the built service (npm run build first) on PGlite in a temp DATA_DIR, or on
 * --database-url. Run: npm run build && npx tsx bench/upload.ts [--database-url postgres://…] [--runs 20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimalPdf } from '../test/support/pdf.js';
import { arg, benchDatabase, fmt, listeningPort } from './support.js';

const runs = Number(arg('runs', '20'));
const databaseUrl = process.argv.includes('--database-url') ? arg('database-url', '') : undefined;
const KEY = 'bench-admin-key-0123456789abcdef';

async function startService(env: Record<string, string>) {
  const child = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
    env: {
      ...process.env,
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'log',
      ADMIN_API_KEY: KEY,
      RATE_LIMIT_PER_MINUTE: '100000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child);
  return { child, base: `http://127.0.0.1:${port}` };
}

function upload(base: string, bytes: Buffer, filename: string) {
  const form = new FormData();
  form.set('coachId', 'bench');
  form.set('metadata', JSON.stringify({ documentType: 'research', tags: [], accessTier: 'free' }));
  form.set('file', new Blob([bytes]), filename);
  return fetch(`${base}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
    body: form,
  });
}

async function latency(base: string, pages: number) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const pdf = minimalPdf(
      Array.from(
        { length: pages },
        (_, p) => `Run ${i} page ${p + 1}: protein, satiety and energy balance in adults.`,
      ),
    );
    const started = performance.now();
    const res = await upload(base, pdf, `paper-${i}.pdf`);
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    p50: times[Math.floor(times.length / 2)]!,
    p95: times[Math.floor(times.length * 0.95)]!,
    bytes: minimalPdf(Array(pages).fill('x')).length,
  };
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** 50 MB of text: the worst case (every byte becomes text in the event, the read models and the file store). */
function bigText(): Buffer {
  const words = 'protein satiety energy balance muscle recovery sleep hydration fibre ';
  return Buffer.from(words.repeat(Math.ceil(50_000_000 / words.length)).slice(0, 50_000_000));
}

/** A 50 MB PDF as scans and figures make them: 10 pages of text and an embedded 50 MB image stream. */
function bigPdf(): Buffer {
  const text = minimalPdf(Array.from({ length: 10 }, (_, p) => `Page ${p + 1}: figures on protein intake.`));
  const image = Buffer.alloc(50_000_000 - text.length - 200);
  for (let i = 0; i + 4 <= image.length; i += 4) image.writeUInt32LE((i * 2654435761) >>> 0, i);
  // An incremental update appends the image object after the original file, as editors do.
  const head = Buffer.from(
    `\n99 0 obj\n<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray /Length ${image.length} >>\nstream\n`,
    'latin1',
  );
  return Buffer.concat([text, head, image, Buffer.from('\nendstream\nendobj\n', 'latin1')]);
}

async function peakDuringBigUpload(base: string, pid: number, big: Buffer, filename: string) {
  let peak = rssMb(pid);
  const before = peak;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 10);
  const started = performance.now();
  const res = await upload(base, big, filename);
  const ms = performance.now() - started;
  clearInterval(timer);
  return { status: res.status, before, peak, ms };
}

const dataDir = mkdtempSync(join(tmpdir(), 'docsvc-bench-upload-'));
const db = databaseUrl ? await benchDatabase('postgres', databaseUrl) : undefined;
const { child, base } = await startService(db ? { DATABASE_URL: db.url! } : { DATA_DIR: dataDir });
try {
  console.log(
    `# upload benchmark — ${new Date().toISOString()}, ${db ? db.label : 'PGlite (DATA_DIR)'}, ${runs} uploads each\n`,
  );
  console.log('| file | size | p50 | p95 |');
  console.log('|---|---:|---:|---:|');
  for (const pages of [1, 100]) {
    const r = await latency(base, pages);
    console.log(`| ${pages}-page PDF | ${fmt(r.bytes / 1024)} KB | ${fmt(r.p50)} ms | ${fmt(r.p95)} ms |`);
  }
  console.log('');
  for (const [label, bytes, filename] of [
    ['50 MB PDF (10 text pages, 50 MB image stream)', bigPdf(), 'big.pdf'],
    ['50 MB text file (50 MB of text)', bigText(), 'big.txt'],
  ] as const) {
    const big = await peakDuringBigUpload(base, child.pid!, bytes, filename);
    console.log(
      `${label}: HTTP ${big.status} in ${fmt(big.ms)} ms; service RSS ${fmt(big.before)} MB before, peak ${fmt(big.peak)} MB during the upload`,
    );
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  await db?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
