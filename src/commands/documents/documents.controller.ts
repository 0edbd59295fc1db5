import {
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Res,
  UploadedFile,
  UseInterceptors,
  Inject,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { CurrentPrincipal, RequireRole } from '../../infrastructure/auth/auth.guard.js';
import type { Principal } from '../../domain/access.js';
import { EditDocumentCommand } from '../edit-document/edit-document.js';
import { EraseDocumentCommand } from '../erase-document/erase-document.js';
import { ReplaceFileCommand } from '../replace-file/replace-file.js';
import { RetireDocumentCommand } from '../retire-document/retire-document.js';
import { RollBackDocumentCommand } from '../rollback-document/rollback-document.js';
import {
  UploadDocumentCommand,
  type UploadedFile as File,
  type UploadResult,
} from '../upload-document/upload-document.js';
import { DocumentIdError } from '../../domain/document/errors.js';
import type { WriteResult } from './document-writer.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new DocumentIdError() });

type H = Record<string, string | undefined>;
const scoped = (p: Principal, key: string | undefined) =>
  key ? `${p.keyId}:${key.slice(0, 200)}` : undefined;

/** The command API for documents (API.md): thin, one statement per endpoint. */
@Controller('documents')
@RequireRole('editor')
export class DocumentsController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post()
  @UseInterceptors(FileInterceptor('file'))
  async upload(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @UploadedFile() file: File | undefined,
    @Headers() h: H,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadResult> {
    return this.commands
      .execute(new UploadDocumentCommand(p, body ?? {}, file, scoped(p, h['idempotency-key'])))
      .then((r) => (res.status(r.duplicate ? 200 : 201), r));
  }

  @Patch(':id')
  edit(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() body: unknown,
    @Headers() h: H,
  ): Promise<WriteResult> {
    return this.commands.execute(
      new EditDocumentCommand({
        principal: p,
        documentId: id,
        body,
        ifMatch: h['if-match'],
        idempotencyKey: scoped(p, h['idempotency-key']),
      }),
    );
  }

  @Put(':id/file')
  @UseInterceptors(FileInterceptor('file'))
  replaceFile(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() body: unknown,
    @UploadedFile() file: File | undefined,
    @Headers() h: H,
  ): Promise<WriteResult> {
    return this.commands.execute(
      new ReplaceFileCommand(
        {
          principal: p,
          documentId: id,
          body,
          ifMatch: h['if-match'],
          idempotencyKey: scoped(p, h['idempotency-key']),
        },
        file,
      ),
    );
  }

  @Post(':id/rollback')
  @HttpCode(200)
  rollback(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() body: unknown,
    @Headers() h: H,
  ): Promise<WriteResult> {
    return this.commands.execute(
      new RollBackDocumentCommand({
        principal: p,
        documentId: id,
        body,
        ifMatch: h['if-match'],
        idempotencyKey: scoped(p, h['idempotency-key']),
      }),
    );
  }

  @Delete(':id')
  retire(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() body: unknown,
    @Headers() h: H,
  ): Promise<WriteResult> {
    return this.commands.execute(
      new RetireDocumentCommand({
        principal: p,
        documentId: id,
        body,
        ifMatch: h['if-match'],
        idempotencyKey: scoped(p, h['idempotency-key']),
      }),
    );
  }

  @Post(':id/erase')
  @HttpCode(200)
  @RequireRole('admin')
  erase(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() body: unknown,
    @Headers() h: H,
  ): Promise<WriteResult> {
    return this.commands.execute(
      new EraseDocumentCommand({
        principal: p,
        documentId: id,
        body,
        idempotencyKey: scoped(p, h['idempotency-key']),
      }),
    );
  }
}
