import {
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeys } from './api-keys.js';
import { ForbiddenError, hasRole, type Principal, type Role } from '../../domain/access.js';
import { UnauthorizedError } from './unauthorized.error.js';

const PUBLIC = 'docsvc:public';
const ROLE = 'docsvc:role';

/** Routes anyone may call: health, the API description. */
export const Public = () => SetMetadata(PUBLIC, true);
/** The least role a route needs; routes without it need a valid key of any role. */
export const RequireRole = (role: Role) => SetMetadata(ROLE, role);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<Request & { principal: Principal }>().principal,
);

/** `Authorization: Bearer <key>` on every route not marked public: 401 without a valid key, 403 without the role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(ApiKeys) private readonly keys: ApiKeys,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const principal = match ? this.keys.authenticate(match[1]!) : undefined;
    if (!principal) throw new UnauthorizedError('a valid API key is required: Authorization: Bearer <key>');
    const role = this.reflector.getAllAndOverride<Role | undefined>(ROLE, targets);
    if (role && !hasRole(principal, role)) throw new ForbiddenError(`this needs the ${role} role`);
    request.principal = principal;
    return true;
  }
}
