import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { authConfig, AuthConfig } from '../config/auth.config';
import type { AccessTokenPayload, AuthUser } from './auth-user';
import { AuthService } from './auth.service';
import { JWT_ALGORITHM } from './jwt.options';

/** The bearer token of an HTTP request (`Authorization: Bearer <token>`), or null. */
export const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Bearer-token strategy of the HTTP guard; the claim checks are AuthService's, shared with sockets. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    @Inject(authConfig.KEY) config: AuthConfig,
    private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: bearerToken,
      passReqToCallback: true,
      // passport-jwt hands the key to jsonwebtoken, which takes a KeyObject (its typings say
      // string | Buffer only).
      secretOrKey: config.jwtKey as unknown as Buffer,
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
    });
  }

  validate(req: FastifyRequest, payload: AccessTokenPayload): Promise<AuthUser> {
    return this.auth.validatePayload(payload, bearerToken(req)!);
  }
}
