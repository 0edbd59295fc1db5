import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encryptedPdf, textPdf } from '../fixtures/extraction/pdf.js';
import { docxOf } from './zip.js';

/** What a generated library folder holds, and what importing it must do. */
export interface LibraryTree {
  root: string;
  /** Paths that become documents. */
  good: string[];
  /** A copy of a good file's bytes at another path: a duplicate. */
  duplicate: string;
  /** Paths that fail, with their code. */
  failing: Record<string, string>;
  write(path: string, content: string | Buffer): void;
}

/**
 * A coach's folder as it arrives: text, Markdown with a sidecar, HTML, a PDF, a DOCX, a name in the documented
 * pattern, a copy of a file, a truncated PDF, an encrypted PDF, a bad sidecar, and hidden files to skip. Without
 * `rich`, only the text files (extracted without a worker: the crash tests need many files, not many formats).
 */
export function libraryTree({ notes = 3, rich = true } = {}): LibraryTree {
  const root = mkdtempSync(join(tmpdir(), 'docsvc-import-'));
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const sleep = 'Sleep and recovery for strength athletes: seven to nine hours.';
  write('guides/2024-01-15 - Dr Smith - Sleep Guide.txt', sleep);
  write('guides/keto.md', '# Ketogenic protocol\n\nKeep carbohydrates under twenty grams a day.');
  write('guides/keto.md.meta.json', JSON.stringify({ documentType: 'protocol', tags: ['keto'] }));
  for (let i = 1; i <= notes; i++)
    write(`notes/note-${i}.txt`, `Coaching note number ${i} about magnesium dose ${i * 50} mg.`);
  // Far after its original in the import's (path) order: the original is the one that becomes a document.
  write('zz-copies/sleep-copy.txt', sleep);
  write('broken/bad-sidecar.txt', 'A file whose sidecar is wrong.');
  write('broken/bad-sidecar.txt.meta.json', JSON.stringify({ accessTier: 'gold' }));
  write('.hidden/skip.txt', 'hidden');
  write('guides/.DS_Store', 'junk');
  const good = [
    'guides/2024-01-15 - Dr Smith - Sleep Guide.txt',
    'guides/keto.md',
    ...Array.from({ length: notes }, (_, i) => `notes/note-${i + 1}.txt`),
  ];
  const failing: Record<string, string> = { 'broken/bad-sidecar.txt': 'VALIDATION_FAILED' };
  if (rich) {
    write(
      'web/page.html',
      '<html><body><main><h1>Hydration</h1><p>Electrolytes matter in heat.</p></main></body></html>',
    );
    write('papers/protein.pdf', textPdf([['Protein timing study', 'Leucine threshold per meal.']]));
    write(
      'papers/fasting.docx',
      docxOf([{ text: 'Intermittent fasting review', style: 'Title' }, { text: 'Sixteen hours.' }]),
    );
    write('broken/cut.pdf', textPdf([['A PDF that was cut short']]).subarray(0, 120));
    write('broken/locked.pdf', encryptedPdf(['Locked with a password'], 'secret'));
    good.push('web/page.html', 'papers/protein.pdf', 'papers/fasting.docx');
    Object.assign(failing, { 'broken/cut.pdf': 'CORRUPT_FILE', 'broken/locked.pdf': 'ENCRYPTED_PDF' });
  }
  return {
    root,
    good,
    duplicate: 'zz-copies/sleep-copy.txt',
    failing,
    write,
  };
}
