/** What the fault checks write: a generated folder of Markdown documents, and upload bodies for the service. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
