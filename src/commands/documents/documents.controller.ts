import {
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { FileInterceptor } from '@nestjs/platform-express';
import { IngestGate } from '../../infrastructure/http/ingest-gate.js';
import type { Response } from 'express';
import type { Principal } from '../../domain/access.js';
import { DocumentIdError } from '../../domain/document/errors.js';
import { CurrentPrincipal, RequireRole } from '../../infrastructure/auth/auth.guard.js';
import type { ImportFileResult } from '../import-file/import-file.js';
import type { UploadResult } from '../upload-document/upload-document.js';
import type { WriteResult } from './document-stream.js';
import {
  editCommand,
  eraseCommand,
  fromUrlCommand,
  replaceFileCommand,
  retireCommand,
  rollbackCommand,
  uploadCommand,
  type HttpRequest,
} from './document-requests.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => new DocumentIdError() });

type H = HttpRequest['headers'];
type File = HttpRequest['file'];

/** The command API for documents (API.md): each request becomes a typed command at this edge, then goes on the bus. */
@Controller('documents')
@RequireRole('editor')
export class DocumentsController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post()
  @UseInterceptors(IngestGate, FileInterceptor('file'))
  async upload(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @UploadedFile() file: File,
    @Headers() headers: H,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadResult | ImportFileResult> {
    const command = uploadCommand({ principal, body, file, headers });
    const result: UploadResult | ImportFileResult = await this.commands.execute(command);
    const created = 'outcome' in result ? result.outcome === 'created' : !result.duplicate;
    res.status(created ? 201 : 200);
    return result;
  }

  @Post('from-url')
  @UseInterceptors(IngestGate)
  async fromUrl(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers() headers: H,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadResult> {
    const result: UploadResult = await this.commands.execute(fromUrlCommand({ principal, body, headers }));
    res.status(result.duplicate ? 200 : 201);
    return result;
  }

  @Patch(':id')
  edit(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) documentId: string,
    @Body() body: unknown,
    @Headers() headers: H,
  ): Promise<WriteResult> {
    return this.commands.execute(editCommand({ principal, documentId, body, headers }));
  }

  @Put(':id/file')
  @UseInterceptors(IngestGate, FileInterceptor('file'))
  replaceFile(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) documentId: string,
    @Body() body: unknown,
    @UploadedFile() file: File,
    @Headers() headers: H,
  ): Promise<WriteResult> {
    return this.commands.execute(replaceFileCommand({ principal, documentId, body, file, headers }));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  rollback(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) documentId: string,
    @Body() body: unknown,
    @Headers() headers: H,
  ): Promise<WriteResult> {
    return this.commands.execute(rollbackCommand({ principal, documentId, body, headers }));
  }

  @Delete(':id')
  retire(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) documentId: string,
    @Body() body: unknown,
    @Headers() headers: H,
  ): Promise<WriteResult> {
    return this.commands.execute(retireCommand({ principal, documentId, body, headers }));
  }

  @Post(':id/erase')
  @HttpCode(200)
  @RequireRole('admin')
  erase(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuid) documentId: string,
    @Body() body: unknown,
    @Headers() headers: H,
  ): Promise<WriteResult> {
    return this.commands.execute(eraseCommand({ principal, documentId, body, headers }));
  }
}
