import type { Principal } from '../../domain/access.js';
import type { DocumentMetadata } from '../../domain/document/document.js';
import { parseWith, ValidationFailedError } from '../../infrastructure/http/validation.js';
import { EditDocumentCommand } from '../edit-document/edit-document.js';
import { EraseDocumentCommand } from '../erase-document/erase-document.js';
import { ReplaceFileCommand, type IncomingFile } from '../replace-file/replace-file.js';
import { RetireDocumentCommand } from '../retire-document/retire-document.js';
import { RollBackDocumentCommand } from '../rollback-document/rollback-document.js';
import { ImportFileCommand } from '../import-file/import-file.js';
import { ImportUrlCommand } from '../import-url/import-url.js';
import { UploadDocumentCommand } from '../upload-document/upload-document.js';
import {
  editSchema,
  eraseSchema,
  fromUrlSchema,
  jsonUploadSchema,
  multipartUploadSchema,
  replaceFileSchema,
  retireSchema,
  rollbackSchema,
} from './schemas.js';
import { safeFilename } from './snapshot.js';

/**
 * The edge of the document commands: an HTTP request's parts (body, file, headers) validated and turned into a
 * typed command, or a 400 VALIDATION_FAILED naming each bad part. Handlers only ever see typed commands.
 */
export interface HttpRequest {
  principal: Principal;
  body: unknown;
  headers: Record<string, string | undefined>;
  file?: { buffer: Buffer; originalname?: string };
}

type Write = HttpRequest & { documentId: string };

/** Keys are scoped to the API key that sent them: one client's key never replays another's write. */
const idempotencyKeyOf = ({ principal, headers }: HttpRequest) => {
  const key = headers['idempotency-key'];
  return key ? `${principal.keyId}:${key.slice(0, 200)}` : undefined;
};

/** If-Match or `expectedVersion` in the body; both at once must agree. */
function expectedVersionOf(ifMatch: string | undefined, fromBody: number | undefined): number | undefined {
  let fromHeader: number | undefined;
  if (ifMatch !== undefined) {
    const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(ifMatch.trim());
    if (!match)
      throw new ValidationFailedError('If-Match must be a version in quotes, e.g. "3"', {
        errors: [{ path: 'header.if-match', message: 'not a version' }],
      });
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new ValidationFailedError('If-Match and expectedVersion disagree', {
      errors: [{ path: 'body.expectedVersion', message: 'differs from If-Match' }],
    });
  }
  return fromHeader ?? fromBody;
}

const writeOf = (r: Write, fromBody?: number) => ({
  principal: r.principal,
  documentId: r.documentId,
  expectedVersion: expectedVersionOf(r.headers['if-match'], fromBody),
  idempotencyKey: idempotencyKeyOf(r),
});

function requiredFile(file: HttpRequest['file']): IncomingFile {
  if (!file)
    throw new ValidationFailedError('a multipart "file" part is required', {
      errors: [{ path: 'form.file', message: 'required' }],
    });
  return { bytes: file.buffer, filename: safeFilename(file.originalname) };
}

/**
 * POST /documents: multipart (a file, coachId and metadata as JSON text, and for a folder import the file's
 * `sourcePath`) or JSON (text).
 */
export function uploadCommand(r: HttpRequest): UploadDocumentCommand | ImportFileCommand {
  const base = { principal: r.principal, idempotencyKey: idempotencyKeyOf(r) };
  const body = (r.body ?? {}) as Record<string, unknown>;
  if (r.file || /^multipart\//i.test(r.headers['content-type'] ?? '')) {
    const file = requiredFile(r.file);
    const form = {
      coachId: body.coachId,
      metadata: parseMetadataField(body.metadata),
      sourcePath: body.sourcePath,
    };
    const { coachId, metadata, sourcePath } = parseWith(multipartUploadSchema, form, 'form');
    if (sourcePath !== undefined)
      return new ImportFileCommand({
        principal: r.principal,
        coachId,
        sourcePath,
        file,
        metadata: metadata as DocumentMetadata,
      });
    return new UploadDocumentCommand({
      ...base,
      coachId,
      source: { kind: 'file', file, metadata: metadata as DocumentMetadata },
    });
  }
  const { coachId, metadata, ...text } = parseWith(jsonUploadSchema, body, 'body');
  return new UploadDocumentCommand({
    ...base,
    coachId,
    source: { kind: 'text', ...text, metadata: metadata as DocumentMetadata },
  });
}

/** POST /documents/from-url: the URL, its coach and metadata, and how often it is fetched again. */
export function fromUrlCommand(r: HttpRequest): ImportUrlCommand {
  const { coachId, url, metadata, refreshIntervalDays } = parseWith(fromUrlSchema, r.body, 'body');
  return new ImportUrlCommand({
    principal: r.principal,
    coachId,
    url,
    metadata: metadata as DocumentMetadata,
    refreshIntervalDays,
  });
}

export function editCommand(r: Write): EditDocumentCommand {
  const { expectedVersion, metadata, ...change } = parseWith(editSchema, r.body, 'body');
  return new EditDocumentCommand({
    ...writeOf(r, expectedVersion),
    ...change,
    metadata: metadata as Partial<DocumentMetadata> | undefined,
  });
}

export function replaceFileCommand(r: Write): ReplaceFileCommand {
  const file = requiredFile(r.file);
  const { expectedVersion, changeSummary } = parseWith(replaceFileSchema, r.body ?? {}, 'form');
  return new ReplaceFileCommand({ ...writeOf(r, expectedVersion), file, changeSummary });
}

export function rollbackCommand(r: Write): RollBackDocumentCommand {
  const { expectedVersion, toVersion, reason } = parseWith(rollbackSchema, r.body, 'body');
  return new RollBackDocumentCommand({ ...writeOf(r, expectedVersion), toVersion, reason });
}

export function retireCommand(r: Write): RetireDocumentCommand {
  const { expectedVersion, reason } = parseWith(retireSchema, r.body ?? {}, 'body');
  return new RetireDocumentCommand({ ...writeOf(r, expectedVersion), reason });
}

/** An erasure is not conditional on a version (no If-Match): it applies to whatever the document now is. */
export function eraseCommand(r: Write): EraseDocumentCommand {
  const { reason } = parseWith(eraseSchema, r.body, 'body');
  const { principal, documentId } = r;
  return new EraseDocumentCommand({ principal, documentId, reason, idempotencyKey: idempotencyKeyOf(r) });
}

/** Multipart fields arrive as strings; `metadata` is JSON text. */
function parseMetadataField(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ValidationFailedError('form.metadata is not valid JSON', {
      errors: [{ path: 'form.metadata', message: 'not valid JSON' }],
    });
  }
}
