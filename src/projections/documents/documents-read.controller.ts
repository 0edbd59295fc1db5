import { Controller, Get, Inject, Param, ParseUUIDPipe, Query as Q, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { DocumentIdError } from '../../domain/document/errors.js';
import { CurrentPrincipal } from '../../infrastructure/auth/auth.guard.js';
import { attachment } from '../../infrastructure/http/content-disposition.js';
import type { Principal } from '../../domain/access.js';
import { parseWith } from '../../infrastructure/http/validation.js';
import {
  asOfParam,
  listFiltersSchema,
  versionParam,
  GetDocumentFileQuery,
  GetDocumentQuery,
  ListDocumentsQuery,
  type DocumentFile,
  type DocumentPage,
  type DocumentView,
} from './document-queries.js';
import {
  diffParamsSchema,
  DiffVersionsQuery,
  ListVersionsQuery,
  type DocumentDiff,
  type VersionEntry,
} from '../document-versions/history-queries.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new DocumentIdError() });

/** The document reads of the query API: any valid key, filtered to its coaches and tier. */
@Controller('documents')
export class DocumentsReadController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  list(@CurrentPrincipal() p: Principal, @Q() query: Record<string, unknown>): Promise<DocumentPage> {
    return this.queries.execute(new ListDocumentsQuery(p, parseWith(listFiltersSchema, query, 'query')));
  }

  @Get(':id')
  get(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Q('version') version: unknown,
    @Q('asOf') asOf: unknown,
  ): Promise<DocumentView> {
    return this.queries.execute(
      new GetDocumentQuery(
        p,
        id,
        parseWith(versionParam, version, 'query.version'),
        parseWith(asOfParam, asOf, 'query.asOf'),
      ),
    );
  }

  @Get(':id/versions')
  versions(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
  ): Promise<{ documentId: string; versions: VersionEntry[] }> {
    return this.queries.execute(new ListVersionsQuery(p, id));
  }

  @Get(':id/diff')
  diff(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Q() query: Record<string, unknown>,
  ): Promise<DocumentDiff> {
    return this.queries.execute(new DiffVersionsQuery(p, id, parseWith(diffParamsSchema, query, 'query')));
  }

  @Get(':id/file')
  async file(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Q('version') version: unknown,
    @Res() res: Response,
  ): Promise<void> {
    const file: DocumentFile = await this.queries.execute(
      new GetDocumentFileQuery(p, id, parseWith(versionParam, version, 'query.version')),
    );
    res
      .type(file.contentType)
      .setHeader('Content-Length', String(file.size))
      .setHeader('X-Content-Type-Options', 'nosniff')
      .setHeader('Content-Disposition', attachment(file.filename))
      .end(file.bytes);
  }
}
