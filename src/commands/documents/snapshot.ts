import { basename } from 'node:path';
import type { DocumentMetadata, Snapshot } from '../../domain/document/document.js';
import type { Extracted } from '../../infrastructure/extraction/extraction.js';
import { ValidationFailedError } from '../../infrastructure/http/validation.js';

/** Markdown headings become sections, as extraction does for files. */
export function markdownSections(text: string): Snapshot['sections'] {
  const sections: NonNullable<Snapshot['sections']> = [];
  const heading = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/gm;
  for (let m = heading.exec(text); m; m = heading.exec(text))
    sections.push({ level: m[1]!.length, title: m[2]!, startChar: m.index });
  return sections;
}

/** Newlines as \n, no BOM: the same text whichever way it came in. */
export function normaliseText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .normalize('NFC');
}

/** A client's file name is a label, never a path. */
export function safeFilename(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[/\\]|\.\.|[\u0000-\u001f\u007f]/.test(name) || name.length > 255) {
    throw new ValidationFailedError(
      'the file name must be a plain name of at most 255 characters, without path separators',
      {
        errors: [{ path: 'file.filename', message: 'not a plain file name' }],
      },
    );
  }
  return basename(name);
}

export function snapshotFromFile(
  extracted: Extracted,
  metadata: DocumentMetadata,
  file: Snapshot['file'] & object,
): Snapshot {
  const fromName = file.filename?.replace(/\.[A-Za-z0-9]{1,8}$/, '');
  const title = metadata.title ?? extracted.sections[0]?.title ?? fromName ?? 'Untitled';
  return {
    title: title.slice(0, 500),
    content: extracted.text,
    format: extracted.type,
    metadata,
    file,
    ...(extracted.pages ? { pages: extracted.pages } : {}),
    ...(extracted.sections.length > 0 ? { sections: extracted.sections } : {}),
  };
}
