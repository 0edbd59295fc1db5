import { Controller, Get } from '@nestjs/common';
import { Public } from '../infrastructure/auth/auth.guard.js';
import { openApiDocument } from './openapi.js';

@Controller()
@Public()
export class OpenApiController {
  @Get('openapi.json')
  openapi(): unknown {
    return openApiDocument();
  }
}
