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

  /** `@Public()` per controller class and handler: metadata is fixed once the app is built. */
  private readonly publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();

  override canActivate(context: ExecutionContext) {
    if (this.isPublic(context) || context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = bearerToken(req);
    const known = token ? this.auth.knownToken(token) : undefined;
    if (known) {
      req.user = known;
      return true;
    }
    return super.canActivate(context);
  }

  private isPublic(context: ExecutionContext): boolean {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    let routes = this.publicRoutes.get(controller);
    if (!routes) this.publicRoutes.set(controller, (routes = new WeakMap()));
    let isPublic = routes.get(handler);
    if (isPublic === undefined) {
      isPublic = !!this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [handler, controller]);
      routes.set(handler, isPublic);
    }
    return isPublic;
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
