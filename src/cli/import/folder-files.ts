import { lstat, opendir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { metadataPatchSchema, metadataSchema } from '../../domain/schemas.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { CliFailure, EXIT } from '../cli-errors.js';

/** A file found in the folder: where it is, its path relative to the folder (the document's key), its size. */
export interface FolderFile {
  absolutePath: string;
  sourcePath: string;
  size: number;
}

export const SIDECAR_SUFFIX = '.meta.json';
/** A sidecar is a few fields of metadata; a larger one is a mistake, refused before it is read. */
export const MAX_SIDECAR_BYTES = 64 * 1024;

/**
 * Every file under `root`, recursively, in a stable order (by path). Hidden files and folders (a leading dot)
 * and sidecars are not documents; symbolic links are not followed (a link to a parent folder would loop).
 */
export async function listFolder(root: string): Promise<FolderFile[]> {
  const files: FolderFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of await opendir(dir)) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && !entry.name.endsWith(SIDECAR_SUFFIX)) {
        const { size } = await lstat(path);
        files.push({ absolutePath: path, sourcePath: relative(root, path).split(sep).join('/'), size });
      }
    }
  };
  await walk(root);
  return files.sort((a, b) => (a.sourcePath < b.sourcePath ? -1 : a.sourcePath > b.sourcePath ? 1 : 0));
}

/**
 * `2024-01-15 - Dr Smith - Title.pdf` gives the publication date, the author and the title;
 * `2024-01-15 - Title.pdf` the date and the title. Any other name gives nothing (the title then comes from the
 * file itself, as for an upload).
 */
export function metadataFromName(sourcePath: string): Partial<DocumentMetadata> {
  const name = sourcePath.slice(sourcePath.lastIndexOf('/') + 1).replace(/\.[A-Za-z0-9]{1,8}$/, '');
  const match = /^(\d{4}-\d{2}-\d{2}) - (.+)$/.exec(name);
  if (!match) return {};
  const [, publicationDate, rest] = match as unknown as [string, string, string];
  const split = rest.indexOf(' - ');
  const [author, title] = split > 0 ? [rest.slice(0, split), rest.slice(split + 3)] : [undefined, rest];
  if (!metadataSchema.shape.publicationDate.safeParse(publicationDate).success) return {};
  return { publicationDate, ...(author?.trim() ? { author: author.trim() } : {}), title: title.trim() };
}

/** A failure of one file: its stable code (as the API would answer) and what to do about it. */
export class FileFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The whole command's failure (a CSV file or a URL refused as a whole), with the same code. */
  forCommand(): CliFailure {
    const exit = this.code === 'VALIDATION_FAILED' ? EXIT.usage : EXIT.failed;
    return new CliFailure(`${this.code}: ${this.message}`, exit, this.code);
  }
}

/** `<file>.meta.json` beside the file, if there is one: a JSON object of metadata fields. */
export async function readSidecar(file: FolderFile): Promise<Record<string, unknown>> {
  const path = file.absolutePath + SIDECAR_SUFFIX;
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isFile()) return {};
  if (stat.size > MAX_SIDECAR_BYTES)
    throw new FileFailure('VALIDATION_FAILED', `its sidecar is larger than ${MAX_SIDECAR_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new FileFailure('VALIDATION_FAILED', `its sidecar ${file.sourcePath}${SIDECAR_SUFFIX} is not JSON`);
  }
  const parsed = metadataPatchSchema.safeParse(value);
  if (!parsed.success) throw new FileFailure('VALIDATION_FAILED', `its sidecar: ${issues(parsed.error)}`);
  return parsed.data;
}

/** Flags, then the file's name, then its sidecar: later ones win. The result must be whole metadata. */
export function mergeMetadata(layers: ReadonlyArray<Record<string, unknown>>): DocumentMetadata {
  const merged = Object.assign({}, ...layers) as Record<string, unknown>;
  for (const [field, flag] of [
    ['documentType', '--type'],
    ['accessTier', '--tier'],
  ] as const)
    if (merged[field] === undefined)
      throw new FileFailure('VALIDATION_FAILED', `it has no ${field}: give ${flag}, or set it in a sidecar`);
  const parsed = metadataSchema.safeParse(merged);
  if (!parsed.success) throw new FileFailure('VALIDATION_FAILED', `its metadata: ${issues(parsed.error)}`);
  return parsed.data as DocumentMetadata;
}

const issues = (error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || 'value'}: ${i.message}`).join('; ');
