/** The document aggregate's vocabulary: pure types, no I/O. */
export const DOCUMENT_TYPES = ['research', 'guide', 'protocol', 'case_study'] as const;
export const ACCESS_TIERS = ['free', 'premium'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
export type AccessTier = (typeof ACCESS_TIERS)[number];
export type ContentFormat = 'text' | 'markdown' | 'pdf' | 'docx' | 'html';
export type SourceType = 'upload' | 'json' | 'url' | 'csv' | 'folder';

export interface DocumentMetadata {
  title?: string;
  author?: string;
  publicationDate?: string;
  documentType: DocumentType;
  tags: string[];
  accessTier: AccessTier;
  sourceUrl?: string;
  [custom: string]: unknown;
}

export interface FileRef {
  sha256: string;
  contentType: string;
  size: number;
  filename?: string;
}

/** Everything a version is: rollback copies one, as-of reads return one. */
export interface Snapshot {
  title: string;
  content: string;
  format: ContentFormat;
  metadata: DocumentMetadata;
  file?: FileRef;
  /** Page and heading structure of the extracted text, kept for chunking. */
  pages?: Array<{ page: number; startChar: number; endChar: number }>;
  sections?: Array<{ level: number; title: string; startChar: number }>;
}

/** Structural equality over JSON-like values, independent of key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
