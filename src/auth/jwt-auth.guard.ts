import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import type { AuthUser } from './auth-user';
import { AuthService } from './auth.service';
import { bearerToken } from './jwt.strategy';

/**
 * Global guard: every HTTP route needs a valid bearer token unless marked `@Public()`. A token
 * AuthService verified and checked moments ago is taken as is; any other goes through
 * passport-jwt (signature, expiry) and AuthService's claim checks.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = bearerToken(req);
    const known = token ? this.auth.knownToken(token) : undefined;
    if (known) {
      req.user = known;
      return true;
    }
    return super.canActivate(context);
  }

  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown): TUser {
    // Errors from the token check (e.g. the database is down) pass through to the filter.
    // (Not `instanceof Error`: errors raised inside Node's own modules may come from another realm.)
    if (err) throw typeof err === 'object' ? (err as Error) : AppException.unauthorized();
    if (!user) throw AppException.unauthorized(reasonFrom(info));
    return user;
  }
}

function reasonFrom(info: unknown): string {
  const name = (info as Error | undefined)?.name;
  if (name === 'TokenExpiredError') return 'token expired';
  if (name === 'JsonWebTokenError' || name === 'NotBeforeError') return 'invalid token';
  return 'missing bearer token';
}
